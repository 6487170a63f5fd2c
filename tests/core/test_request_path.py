"""What a request pays before its view: the tenant read with the token, static files and the
favicon served without taking other requests off the event loop."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import AsyncClient, Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory

from core.api.authentication import TokenAuthentication
from core.tenancy import membership_set, tenant_for_user, tenant_get_or_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _authenticated(user: Any, key: str | None = None) -> Any:
    key = key or Token.objects.get_or_create(user=user)[0].key
    request = APIRequestFactory().get("/api/agents", HTTP_AUTHORIZATION=f"Token {key}")
    authenticated = TokenAuthentication().authenticate(request)
    assert authenticated is not None
    return authenticated[0]


def test_the_token_brings_the_tenant_in_the_same_query(user):
    key = Token.objects.create(user=user).key
    with CaptureQueriesContext(connection) as queries:
        caller = _authenticated(user, key)
        tenant = tenant_for_user(caller)
    assert len(queries) == 1
    assert tenant.pk == user.membership.tenant_id


def test_a_user_without_membership_still_lands_in_the_default_tenant():
    lone: Any = UserFactory()
    lone.membership.delete()
    caller = _authenticated(type(lone).objects.get(pk=lone.pk))
    assert tenant_for_user(caller).slug == "default"


def test_a_membership_changed_after_another_read_is_seen(user):
    user.membership  # noqa: B018 - cached on this object, not read with a token
    other = tenant_get_or_create(slug="other")
    membership_set(user=user, tenant=other)
    assert tenant_for_user(user).pk == other.pk


def test_the_api_uses_the_one_query_authentication(settings):
    assert (
        "core.api.authentication.TokenAuthentication"
        in settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]
    )


def test_the_favicon_is_served_at_the_root():
    response: Any = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # an ICO file


async def test_static_files_are_served_on_an_async_server():
    response = await AsyncClient().get("/favicon.ico")
    assert response.status_code == 200


def test_the_middleware_is_async_capable():
    from core.staticfiles import StaticFilesMiddleware

    assert StaticFilesMiddleware.async_capable
    assert StaticFilesMiddleware.sync_capable
