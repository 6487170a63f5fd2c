"""A model a client chooses must name a configured provider, and a tool's refusal of its input
is the client's 400. (A model the provider does not list: tests/agents/test_resolution.py.)"""

from __future__ import annotations

import pytest

from agents.providers.catalog import cache_clear
from tests.fakes.openai_server import ChatReply


@pytest.fixture(autouse=True)
def _fresh_model_lists(openai_server):
    openai_server.set_models(["gpt-test", "gpt-test-mini"])  # the list persists across tests
    cache_clear()
    yield
    cache_clear()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("model", ["nowhere/gpt-test", "scripted/", "/gpt-test", "tier:huge"])
def test_a_model_without_a_configured_provider_is_a_400(openai_server, make_agent, api_client, model):
    make_agent(allow_model_override=True)
    response = api_client.post("/api/agents/helper/generate", {"prompt": "x", "model": model}, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "unknown_provider"
    assert "model" in body["details"]
    assert openai_server.chat_requests == []


def test_the_chat_route_checks_the_model_too(openai_server, make_agent, api_client):
    make_agent(allow_model_override=True)
    message = {"role": "user", "parts": [{"type": "text", "text": "hi"}]}
    response = api_client.post(
        "/api/agents/helper/chat", {"id": "c1", "messages": [message], "model": "nowhere/5"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_provider"


def test_input_the_tool_refuses_is_a_400_naming_the_field(make_agent, api_client):
    response = api_client.post(
        "/api/tools/current_time/execute", {"data": {"timezone": "Mars/Olympus"}}, format="json"
    )
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "validation_error"
    assert "Mars/Olympus" in body["details"]["data.timezone"][0]
    assert body["details"]["traceId"]


@pytest.mark.django_db(transaction=True)
def test_the_model_still_gets_the_refusal_as_a_tool_result(openai_server, make_agent, api_client):
    from tests.fakes.openai_server import ToolCall

    make_agent(tools=["current_time"])
    openai_server.script(
        ChatReply(
            tool_calls=[ToolCall(name="current_time", arguments={"timezone": "Mars/Olympus"}, id="t1")]
        ),
        ChatReply(text="Sorry, unknown zone."),
    )
    response = api_client.post("/api/agents/helper/generate", {"prompt": "time on mars"}, format="json")
    assert response.status_code == 200
    sent = openai_server.chat_requests[1].body["messages"][-1]
    assert sent["role"] == "tool"
    assert "refused its input: Unknown timezone" in sent["content"]  # the client's mistake, not a crash


LONG_MODEL = "scripted/" + "x" * 300


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("route", ["generate", "chat"])
@pytest.mark.parametrize(
    ("how", "field"),
    [("header", "X-Model"), ("query", "model"), ("body", "model"), ("body-modelId", "modelId")],
)
def test_a_model_name_longer_than_a_run_stores_is_a_400_naming_where_it_came_from(
    openai_server, make_agent, api_client, route, how, field
):
    make_agent(allow_model_override=True)
    message = {"role": "user", "parts": [{"type": "text", "text": "hi"}]}
    payload: dict = {"prompt": "x"} if route == "generate" else {"id": "c-long", "messages": [message]}
    url, headers = f"/api/agents/helper/{route}", {}
    if how == "header":
        headers["HTTP_X_MODEL"] = LONG_MODEL
    elif how == "query":
        url += f"?model={LONG_MODEL}"
    else:
        payload[field] = LONG_MODEL
    response = api_client.post(url, payload, format="json", **headers)
    assert response.status_code == 400, response.content[:300]
    body = response.json()
    assert body["code"] == "validation_error"
    assert list(body["details"]) == [field]
    assert openai_server.chat_requests == []


@pytest.mark.django_db(transaction=True)
def test_a_model_name_as_long_as_a_run_stores_is_accepted(openai_server, make_agent, api_client):
    make_agent(allow_model_override=True)
    openai_server.script(ChatReply(text="ok"))
    name = "scripted/" + "x" * (200 - len("scripted/"))
    response = api_client.post(
        "/api/agents/helper/generate", {"prompt": "x"}, format="json", HTTP_X_MODEL=name
    )
    assert response.status_code == 200, response.json()


@pytest.mark.django_db(transaction=True)
def test_an_idempotency_key_header_longer_than_a_run_stores_is_a_400(openai_server, make_agent, api_client):
    make_agent()
    response = api_client.post(
        "/api/agents/helper/generate", {"prompt": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k" * 201
    )
    assert response.status_code == 400
    body = response.json()
    assert (body["code"], list(body["details"])) == ("validation_error", ["Idempotency-Key"])
    assert openai_server.chat_requests == []


@pytest.mark.parametrize("timezone", ["x" * 100_000, "America", "Europe/" + "y" * 60])
def test_a_timezone_that_is_no_zone_is_a_400_without_server_paths(make_agent, api_client, timezone):
    response = api_client.post(
        "/api/tools/current_time/execute", {"data": {"timezone": timezone}}, format="json"
    )
    assert response.status_code == 400, response.json()
    body = response.json()
    assert (body["code"], [k for k in body["details"] if k != "traceId"]) == (
        "validation_error",
        ["data.timezone"],
    )
    assert "site-packages" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_model_gets_a_refusal_for_a_directory_or_huge_timezone(openai_server, make_agent, api_client):
    from tests.fakes.openai_server import ToolCall

    make_agent(tools=["current_time"])
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(name="current_time", arguments={"timezone": "America"}, id="t1"),
                ToolCall(name="current_time", arguments={"timezone": "x" * 5000}, id="t2"),
            ]
        ),
        ChatReply(text="Which city?"),
    )
    response = api_client.post("/api/agents/helper/generate", {"prompt": "time?"}, format="json")
    assert response.status_code == 200
    results = {
        m["tool_call_id"]: m["content"]
        for m in openai_server.chat_requests[1].body["messages"]
        if m["role"] == "tool"
    }
    assert "refused its input: Unknown timezone 'America'" in results["t1"]
    assert "at most 64 characters" in results["t2"]
    assert "site-packages" not in str(results)
