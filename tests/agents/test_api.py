"""The agents REST API: shapes, status codes, tenancy."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from agents.models import Run
from agents.providers.catalog import cache_clear, fetch_count
from tests.agents.conftest import CALLS
from tests.factories import TenantFactory, UserFactory
from tests.fakes.openai_server import ChatReply, Fault, ToolCall

ERROR_KEYS = {"code", "message", "details"}


@pytest.fixture
def agent(make_agent):
    return make_agent(request_context_schema={"properties": {"plan": {"type": "string"}}})


@pytest.mark.django_db(transaction=True)
def test_generate_runs_the_tool_loop_and_reports_run_and_trace(openai_server, agent, api_client):
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 4, "b": 5}, id="t1")]),
        ChatReply(text="9"),
    )
    response = api_client.post(
        "/api/agents/helper/generate", {"prompt": "4+5?", "requestContext": {"plan": "pro"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["text"] == "9"
    assert body["finishReason"] == "stop"
    assert body["toolCalls"] == [{"toolCallId": "t1", "toolName": "test_add", "input": {"a": 4, "b": 5}}]
    assert body["toolResults"][0]["output"] == {"sum": 9}
    assert body["usage"]["totalTokens"] > 0

    run = api_client.get(f"/api/runs/{body['runId']}").json()
    assert run["status"] == "completed"
    assert run["agentVersion"] == agent.version
    trace = api_client.get(f"/api/traces/{body['traceId']}").json()
    assert [s["name"] for s in trace["spans"]] == ["agent.run", "model.call", "tool.call", "model.call"]


@pytest.mark.django_db(transaction=True)
def test_generate_with_messages_and_idempotency_header(openai_server, agent, api_client):
    openai_server.script(ChatReply(text="once"))
    payload = {"messages": [{"role": "user", "content": "hi"}]}
    first = api_client.post("/api/agents/helper/generate", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api_client.post(
        "/api/agents/helper/generate", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == second.status_code == 200
    assert first.json()["runId"] == second.json()["runId"]
    assert len(openai_server.chat_requests) == 1


@pytest.mark.django_db(transaction=True)
def test_structured_output_over_the_api(openai_server, agent, api_client):
    openai_server.script(ChatReply(text='{"answer": 42}'))
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}, "required": ["answer"]}
    response = api_client.post(
        "/api/agents/helper/generate", {"prompt": "q", "structuredOutput": {"schema": schema}}, format="json"
    )
    assert response.json()["object"] == {"answer": 42}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "messages"),
        ({"prompt": "a", "messages": [{"role": "user", "content": "b"}]}, "messages"),
        ({"prompt": "   "}, "prompt"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
        ({"messages": "not a list"}, "messages"),
        ({"prompt": "x", "maxSteps": "many"}, "maxSteps"),
        ({"prompt": "x", "requestContext": ["not", "a", "dict"]}, "requestContext"),
    ],
)
def test_bad_input_is_a_400_with_field_errors(openai_server, agent, api_client, payload, field):
    response = api_client.post("/api/agents/helper/generate", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) == ERROR_KEYS
    assert body["code"] == "validation_error"
    assert field in body["details"]
    assert openai_server.chat_requests == []


def test_malformed_json_is_a_400(agent, api_client):
    response = api_client.post("/api/agents/helper/generate", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db(transaction=True)
def test_request_context_spoofing_is_a_400(openai_server, agent, api_client):
    response = api_client.post(
        "/api/agents/helper/generate", {"prompt": "x", "requestContext": {"tenantId": 1}}, format="json"
    )
    assert response.status_code == 400
    assert "requestContext.tenantId" in response.json()["details"]


@pytest.mark.django_db(transaction=True)
def test_unknown_agent_is_a_404_and_disabled_a_409(openai_server, agent, api_client):
    from agents.services import agent_set_enabled

    assert api_client.post("/api/agents/nobody/generate", {"prompt": "x"}, format="json").status_code == 404
    assert api_client.get("/api/agents/nobody").status_code == 404
    agent_set_enabled(agent=agent, enabled=False)
    response = api_client.post("/api/agents/helper/generate", {"prompt": "x"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "disabled"
    assert "helper" in response.json()["message"]


@pytest.mark.django_db(transaction=True)
def test_provider_down_is_a_502_naming_the_provider_and_the_run_is_failed(
    openai_server, agent, api_client, settings
):
    settings.MODEL_MAX_RETRIES = 0
    openai_server.script(Fault(status=500))
    response = api_client.post("/api/agents/helper/generate", {"prompt": "x"}, format="json")
    assert response.status_code == 502
    assert "scripted" in response.json()["message"]
    run = Run.objects.get()
    assert run.status == "failed"


@pytest.mark.django_db(transaction=True)
def test_another_tenants_agent_and_run_are_404(openai_server, make_agent, api_client, user):
    other_tenant = TenantFactory()
    make_agent(slug="private", tenant=other_tenant)
    assert api_client.get("/api/agents/private").status_code == 404
    assert "private" not in [a["id"] for a in api_client.get("/api/agents").json()]
    assert api_client.post("/api/agents/private/generate", {"prompt": "x"}, format="json").status_code == 404


def test_agent_list_and_detail_shapes(agent, api_client):
    listed = api_client.get("/api/agents").json()
    assert [a["id"] for a in listed] == ["helper"]
    detail = api_client.get("/api/agents/helper").json()
    assert detail["tools"] == ["test_add", "test_explode", "test_slow", "test_whoami"]
    assert detail["version"] == agent.version
    assert detail["allowModelOverride"] is False


def test_unauthenticated_requests_are_401(db):
    from rest_framework.test import APIClient

    response = APIClient().post("/api/agents/helper/generate", {"prompt": "x"}, format="json")
    assert response.status_code == 401
    assert set(response.json()) == ERROR_KEYS


def test_tools_list_and_isolated_execution(agent, api_client, user):
    tools = {t["id"]: t for t in api_client.get("/api/tools").json()}
    assert tools["test_add"]["inputSchema"]["required"] == ["a", "b"]
    assert tools["test_add"]["label"] == "Adding…"

    ok = api_client.post("/api/tools/test_add/execute", {"data": {"a": 1, "b": 2}}, format="json")
    assert ok.status_code == 200
    assert ok.json()["output"] == {"sum": 3}

    bad = api_client.post("/api/tools/test_add/execute", {"data": {"a": "x"}}, format="json")
    assert bad.status_code == 400
    assert set(bad.json()["details"]) == {"data.a", "data.b"}

    # side effects: staff only
    assert (
        api_client.post("/api/tools/test_forbidden/execute", {"data": {}}, format="json").status_code == 403
    )
    assert CALLS["forbidden"] == []
    assert api_client.post("/api/tools/nope/execute", {"data": {}}, format="json").status_code == 404

    from agents.services import tool_set_enabled

    tool_set_enabled(tool_id="test_add", enabled=False)
    disabled = api_client.post("/api/tools/test_add/execute", {"data": {"a": 1, "b": 2}}, format="json")
    assert disabled.status_code == 409
    assert "test_add" in disabled.json()["message"]


def test_a_failing_tool_in_isolation_is_a_502_not_a_500(agent, api_client, caplog):
    user: Any = UserFactory(is_staff=True)
    from rest_framework.authtoken.models import Token

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    with caplog.at_level(logging.ERROR, logger="agents.runtime.tool_exec"):
        response = api_client.post("/api/tools/test_explode/execute", {"data": {}}, format="json")
    assert response.status_code == 502
    body = response.json()
    assert (body["code"], body["message"]) == (
        "tool_failed",
        "Tool 'test_explode' failed with an unexpected error (RuntimeError).",
    )
    assert "kaboom" not in response.content.decode()
    assert "RuntimeError: kaboom" in caplog.text  # the detail: in the log only


def test_a_tool_whose_output_its_schema_refuses_is_a_502_without_the_output(agent, api_client, caplog):
    user: Any = UserFactory(is_staff=True)
    from rest_framework.authtoken.models import Token

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response = api_client.post("/api/tools/test_bad_output/execute", {"data": {}}, format="json")
    assert response.status_code == 502
    body = response.json()
    assert body["message"] == "Tool 'test_bad_output' returned output its schema refuses."
    assert "secret-ish" not in response.content.decode()


def test_models_are_listed_and_provider_listing_is_cached(openai_server, agent, api_client):
    cache_clear()
    openai_server.set_models(["gpt-test", "gpt-large"])
    body = api_client.get("/api/models").json()
    ids = {m["id"] for m in body["models"]}
    assert {"scripted/gpt-test", "scripted/gpt-large", "backup/gpt-large"} <= ids
    assert next(m for m in body["models"] if m["id"] == "scripted/gpt-test")["configured"] is True
    providers = {p["name"]: p for p in body["providers"]}
    assert providers["openai"]["error"]  # no reachable openai here: reported, not a 500
    api_client.get("/api/models")
    assert fetch_count("scripted") == 1


def test_concurrent_model_listing_shares_one_fetch(openai_server, agent):
    from concurrent.futures import ThreadPoolExecutor

    from agents.providers.catalog import provider_models
    from agents.providers.config import resolve

    cache_clear()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: provider_models(resolve("scripted/_")), range(8)))
    assert all(models == results[0][0] for models, _ in results)
    assert fetch_count("scripted") == 1
    assert sum(1 for r in openai_server.requests if r.path.endswith("/models")) == 1


def test_openapi_schema_and_docs_render(db, admin_client):
    assert admin_client.get("/api/schema/").status_code == 200
    assert admin_client.get("/api/docs/").status_code == 200
