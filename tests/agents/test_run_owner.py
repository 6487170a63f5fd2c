"""Runs and traces belong to the user who started them; idempotency keys are the caller's own."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agents.models import Run
from core.models import Membership
from tests.factories import UserFactory
from tests.fakes.openai_server import ChatReply


def client_for(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def first_run(openai_server: Any, make_agent: Any, api_client: APIClient) -> dict[str, Any]:
    make_agent()
    openai_server.script(ChatReply(text="the secret answer"))
    response = api_client.post("/api/agents/helper/generate", {"prompt": "my private prompt"}, format="json")
    assert response.status_code == 200, response.json()
    return dict(response.json())


@pytest.mark.django_db(transaction=True)
def test_another_member_of_the_tenant_reads_neither_the_run_nor_its_trace(first_run, tenant):
    other = client_for(UserFactory(tenant=tenant))
    for path in (f"/api/runs/{first_run['runId']}", f"/api/traces/{first_run['traceId']}"):
        response = other.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"code": "not_found", "message": response.json()["message"], "details": {}}
        assert "secret" not in response.content.decode()
        assert "private" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_missing_run_and_another_members_run_answer_alike(first_run, tenant):
    other = client_for(UserFactory(tenant=tenant))
    theirs = other.get(f"/api/runs/{first_run['runId']}")
    missing = other.get("/api/runs/00000000-0000-4000-8000-000000000000")
    assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())


@pytest.mark.django_db(transaction=True)
def test_a_tenant_admin_reads_every_run_and_trace_of_the_tenant(first_run, tenant):
    admin = client_for(UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN))
    run = admin.get(f"/api/runs/{first_run['runId']}")
    assert run.status_code == 200
    assert admin.get(f"/api/traces/{first_run['traceId']}").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_owner_still_reads_its_run_and_trace(first_run, api_client):
    assert api_client.get(f"/api/runs/{first_run['runId']}").status_code == 200
    trace = api_client.get(f"/api/traces/{first_run['traceId']}")
    assert trace.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_another_members_idempotency_key_starts_a_run_of_its_own(
    openai_server, make_agent, api_client, tenant
):
    make_agent()
    openai_server.script(
        ChatReply(text="answer for the first member"), ChatReply(text="answer for the second")
    )
    payload = {"prompt": "hello", "idempotencyKey": "order-1"}
    first = api_client.post("/api/agents/helper/generate", payload, format="json")
    second = client_for(UserFactory(tenant=tenant)).post(
        "/api/agents/helper/generate", payload, format="json"
    )
    assert first.status_code == second.status_code == 200
    assert second.json()["runId"] != first.json()["runId"]
    assert second.json()["text"] == "answer for the second"
    assert len(openai_server.chat_requests) == 2
    assert Run.objects.filter(idempotency_key="order-1").count() == 2
    # The first member's key still replays its own run.
    again = api_client.post("/api/agents/helper/generate", payload, format="json")
    assert again.json()["runId"] == first.json()["runId"]


@pytest.mark.django_db(transaction=True)
def test_naming_another_members_resource_is_a_404_like_a_missing_one(
    openai_server, make_agent, api_client, user, tenant
):
    make_agent()
    other: Any = UserFactory(tenant=tenant)
    client = client_for(other)
    generated = {
        resource: client.post(
            "/api/agents/helper/generate",
            {"prompt": "hi", "memory": {"thread": "t", "resource": resource}},
            format="json",
        )
        for resource in (str(user.pk), "no-such-resource")
    }
    listed = {
        resource: client.get(f"/api/agents/helper/suspended-runs?resourceId={resource}")
        for resource in (str(user.pk), "no-such-resource")
    }
    for answers in (generated, listed):
        theirs, missing = answers.values()
        assert theirs.status_code == 404, theirs.json()
        assert theirs.json()["code"] == "not_found"
        assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json())
    assert openai_server.chat_requests == []
    assert not Run.objects.exists()
    own = client.get(f"/api/agents/helper/suspended-runs?resourceId={other.pk}")
    assert (own.status_code, own.json()) == (200, [])
