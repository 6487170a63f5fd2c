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


class _Hops:
    """Counts the calls to a thread that an async request makes (`sync_to_async`)."""

    def __init__(self, monkeypatch: Any) -> None:
        from asgiref import sync

        self.names: list[str] = []
        original = sync.SyncToAsync.__call__

        async def counted(inner: Any, *args: Any, **kwargs: Any) -> Any:
            self.names.append(getattr(inner.func, "__qualname__", repr(inner.func)))
            return await original(inner, *args, **kwargs)

        monkeypatch.setattr(sync.SyncToAsync, "__call__", counted)


@pytest.mark.django_db(transaction=True)
async def test_an_api_request_under_asgi_enters_the_middlewares_thread_once(user, monkeypatch):
    """Django's middleware runs as one synchronous block: a token-authenticated API call makes a
    handful of thread calls, not two per middleware hook as `MiddlewareMixin` does under ASGI."""
    from asgiref.sync import sync_to_async

    key = (await sync_to_async(Token.objects.create)(user=user)).key
    client = AsyncClient()
    await client.get("/api/agents", headers={"authorization": f"Token {key}"})  # the chain loaded
    hops = _Hops(monkeypatch)

    response = await client.get("/api/agents", headers={"authorization": f"Token {key}"})

    assert response.status_code == 200, response.content
    assert not [name for name in hops.names if "process_request" in name or "process_response" in name]
    # Django's request_started and request_finished signals, the block, the CSRF view check,
    # the view, the rendering of its response; with Django's middleware as it comes, 17 (and the
    # release of the connection after the view, one more).
    assert len(hops.names) <= 6, hops.names


async def test_the_middlewares_headers_are_set_under_asgi():
    response = await AsyncClient().get("/")
    assert response["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware, on the event loop
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"  # the synchronous block


def test_the_middleware_block_holds_django_s_own():
    from django.conf import settings

    from core import middleware

    block = [
        middleware.SessionMiddleware,
        middleware.CommonMiddleware,
        middleware.CsrfViewMiddleware,
        middleware.AuthenticationMiddleware,
        middleware.MessageMiddleware,
        middleware.XFrameOptionsMiddleware,
    ]
    assert all(not m.async_capable and m.sync_capable for m in block)
    listed = [f"core.middleware.{m.__name__}" for m in block]
    start = settings.MIDDLEWARE.index(listed[0])
    assert settings.MIDDLEWARE[start : start + len(listed)] == listed  # consecutive: one block
