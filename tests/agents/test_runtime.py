"""The tool loop, through the real `openai` SDK against the scripted server."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel

from agents.models import Run
from agents.providers.calls import ProviderUnavailable
from agents.providers.catalog import cache_clear
from agents.runtime import RunOptions, generate
from agents.runtime.types import InvalidToolCalls, StructuredOutputInvalid
from core.context import RequestContext
from core.errors import Disabled, Forbidden, NotFound, ValidationFailed
from observability.models import Span
from tests.agents.conftest import CALLS
from tests.conftest import SCRIPTED_KEY
from tests.fakes.openai_server import ChatReply, Fault, ToolCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(user):
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def _tool_messages(request):
    return [m for m in request.messages if m["role"] == "tool"]


def test_a_text_turn_is_answered_persisted_and_traced(openai_server, make_agent, ctx):
    agent = make_agent()
    openai_server.script(ChatReply(text="Hello there!"))

    result = generate("helper", context=ctx, prompt="Hi")

    assert result.text == "Hello there!"
    assert result.finish_reason == "stop"
    assert result.agent_version == agent.version
    sent = openai_server.chat_requests[0]
    assert sent.body["model"] == "gpt-test"
    assert sent.messages[0]["role"] == "system"
    assert sent.messages[0]["content"].startswith("You are a careful assistant.\n\n")
    assert sent.messages[-1] == {"role": "user", "content": "Hi"}
    assert {t["function"]["name"] for t in sent.body["tools"]} == {
        "test_add",
        "test_slow",
        "test_explode",
        "test_whoami",
        "render_data",  # ambient: offered to every agent that does not exclude it
    }
    run = Run.objects.get(id=result.run_id)
    assert run.status == "completed"
    assert run.agent_version == agent.version
    assert run.result["text"] == "Hello there!"
    assert run.usage["totalTokens"] > 0
    spans = list(Span.objects.filter(trace_id=result.trace_id).order_by("seq"))
    assert [s.name for s in spans] == ["agent.run", "model.call"]
    assert spans[1].parent_id == spans[0].id
    assert spans[1].attributes["model"] == "scripted/gpt-test"
    assert spans[1].attributes["input_tokens"] > 0


def test_tool_loop_feeds_results_back(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 2, "b": 3}, id="c1")]),
        ChatReply(text="It is 5."),
    )

    result = generate("helper", context=ctx, prompt="2+3?")

    assert result.text == "It is 5."
    assert CALLS["add"] == [(2, 3)]
    assert result.tool_calls == [{"toolCallId": "c1", "toolName": "test_add", "input": {"a": 2, "b": 3}}]
    assert result.tool_results[0]["output"] == {"sum": 5}
    second = openai_server.chat_requests[1]
    assert second.messages[-2]["tool_calls"][0]["function"]["name"] == "test_add"
    assert _tool_messages(second) == [
        {"role": "tool", "tool_call_id": "c1", "content": json.dumps({"sum": 5})}
    ]
    names = list(Span.objects.filter(trace_id=result.trace_id).order_by("seq").values_list("name", flat=True))
    assert names == ["agent.run", "model.call", "tool.call", "model.call"]


def test_parallel_tool_calls_all_run_in_order(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(name="test_add", arguments={"a": 1, "b": 1}, id="x"),
                ToolCall(name="test_add", arguments={"a": 2, "b": 2}, id="y"),
            ]
        ),
        ChatReply(text="2 and 4"),
    )
    result = generate("helper", context=ctx, prompt="go")
    assert sorted(CALLS["add"]) == [(1, 1), (2, 2)]
    assert [r["toolCallId"] for r in result.tool_results] == ["x", "y"]
    assert [r["output"]["sum"] for r in result.tool_results] == [2, 4]


def test_invalid_arguments_go_back_to_the_model_which_corrects_itself(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": "two", "b": 3}, id="bad")]),
        ChatReply(tool_calls=[ToolCall(name="test_add", raw_arguments='{"a": 2, "b":', id="broken")]),
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 2, "b": 3}, id="good")]),
        ChatReply(text="5"),
    )
    result = generate("helper", context=ctx, prompt="2+3")

    assert result.text == "5"
    assert CALLS["add"] == [(2, 3)]  # the invalid calls never ran
    feedback = [json.loads(m["content"])["error"] for m in _tool_messages(openai_server.chat_requests[3])[:2]]
    assert "Invalid arguments: a:" in feedback[0]
    assert "not valid JSON" in feedback[1]


def test_invalid_arguments_are_bounded(openai_server, make_agent, ctx):
    make_agent(max_steps=10)
    bad = ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": "x"})])
    openai_server.script(bad, bad, bad, bad)
    with pytest.raises(InvalidToolCalls):
        generate("helper", context=ctx, prompt="2+3")
    run = Run.objects.get()
    assert run.status == "failed"
    assert run.error["code"] == "invalid_tool_calls"
    assert CALLS["add"] == []


def test_a_tool_outside_the_allowlist_is_refused_and_never_runs(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_forbidden", arguments={}, id="f1")]),
        ChatReply(text="I could not do that."),
    )
    result = generate("helper", context=ctx, prompt="do it")
    assert CALLS["forbidden"] == []
    assert result.tool_results[0]["isError"] is True
    assert "not available to this agent" in result.tool_results[0]["output"]["error"]
    span = Span.objects.get(trace_id=result.trace_id, name="tool.call")
    assert span.status == "error"
    assert span.attributes["tool_name"] == "test_forbidden"


def test_max_steps_stops_the_loop(openai_server, make_agent, ctx):
    make_agent(max_steps=2)
    call = ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 1, "b": 1})])
    openai_server.script(call, call)
    result = generate("helper", context=ctx, prompt="loop")
    assert len(openai_server.chat_requests) == 2
    assert result.steps == 2
    assert result.finish_reason == "tool-calls"
    assert len(CALLS["add"]) == 2


def test_per_request_max_steps(openai_server, make_agent, ctx):
    make_agent(max_steps=5)
    openai_server.script(ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 1, "b": 1})]))
    result = generate("helper", context=ctx, prompt="loop", options=RunOptions(max_steps=1))
    assert result.steps == 1
    assert len(openai_server.chat_requests) == 1


@pytest.mark.parametrize("status", [500, 429])
def test_retries_then_falls_back(openai_server, make_agent, ctx, settings, status):
    settings.MODEL_MAX_RETRIES = 2
    make_agent(fallback_models=["backup/gpt-test-mini"])
    openai_server.script(
        Fault(status=status, model="gpt-test"),
        Fault(status=status, model="gpt-test"),
        Fault(status=status, model="gpt-test"),
        ChatReply(text="from the backup", model="gpt-test-mini"),
    )
    result = generate("helper", context=ctx, prompt="hi")
    assert result.text == "from the backup"
    assert result.model == "backup/gpt-test-mini"
    assert [r.body["model"] for r in openai_server.chat_requests] == ["gpt-test"] * 3 + ["gpt-test-mini"]
    attempts = Span.objects.filter(trace_id=result.trace_id, name="model.call").order_by("seq")
    assert [(s.attributes["attempt"], s.attributes["fallback"], s.status) for s in attempts] == [
        (1, 0, "error"),
        (2, 0, "error"),
        (3, 0, "error"),
        (1, 1, "ok"),
    ]
    assert f"HTTP {status}" in attempts[0].error


def test_a_retry_succeeds_without_fallback(openai_server, make_agent, ctx):
    make_agent(fallback_models=["backup/gpt-test-mini"])
    openai_server.script(Fault(status=503), ChatReply(text="second try"))
    assert generate("helper", context=ctx, prompt="hi").text == "second try"
    assert len(openai_server.chat_requests) == 2


def test_timeouts_are_retried(openai_server, make_agent, ctx, settings):
    settings.MODEL_REQUEST_TIMEOUT_S = 0.3
    make_agent(model="scripted/slow-model")
    openai_server.script(Fault(kind="timeout", delay_s=1.0), ChatReply(text="on time"))
    assert generate("helper", context=ctx, prompt="hi").text == "on time"


def test_dropped_connections_are_retried(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(Fault(kind="drop"), ChatReply(text="reconnected"))
    assert generate("helper", context=ctx, prompt="hi").text == "reconnected"


def test_provider_down_fails_clearly_and_records_the_run(openai_server, make_agent, ctx, settings):
    settings.MODEL_MAX_RETRIES = 1
    make_agent(fallback_models=["backup/gpt-test-mini"])
    openai_server.script(*[Fault(status=500)] * 4)
    with pytest.raises(ProviderUnavailable) as caught:
        generate("helper", context=ctx, prompt="hi")
    assert caught.value.status == 502
    assert "scripted" in caught.value.message
    assert "backup" in caught.value.message
    run = Run.objects.get()
    assert run.status == "failed"
    assert run.error["code"] == "provider_unavailable"
    assert len(run.error["details"]["attempts"]) == 4


def test_a_failing_or_slow_tool_reports_its_error_to_the_model(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(name="test_explode", arguments={}, id="e"),
                ToolCall(name="test_slow", arguments={}, id="s"),
            ]
        ),
        ChatReply(text="Both failed."),
    )
    result = generate("helper", context=ctx, prompt="try")
    errors = {r["toolCallId"]: r["output"]["error"] for r in result.tool_results}
    # The exception's type, not its text (which can hold server paths or data): that is in the log only.
    assert errors["e"] == "Tool 'test_explode' failed with an unexpected error (RuntimeError)."
    assert "timed out after 0.2 s" in errors["s"]
    spans = {
        s.attributes["tool_call_id"]: s for s in Span.objects.filter(trace_id=result.trace_id, kind="tool")
    }
    assert spans["e"].status == "error"
    assert spans["e"].error == errors["e"]
    assert "timed out" in spans["s"].error


def test_idempotent_replay_never_calls_the_model_again(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 1, "b": 2})]), ChatReply(text="3")
    )
    first = generate("helper", context=ctx, prompt="1+2", options=RunOptions(idempotency_key="order-42"))
    second = generate("helper", context=ctx, prompt="1+2", options=RunOptions(idempotency_key="order-42"))
    assert second.replayed is True
    assert (second.run_id, second.text) == (first.run_id, "3")
    assert len(openai_server.chat_requests) == 2
    assert CALLS["add"] == [(1, 2)]
    assert Run.objects.count() == 1


class Weather(BaseModel):
    city: str
    celsius: float


def test_structured_output(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(ChatReply(text='{"city": "Oslo", "celsius": -3.5}'))
    result = generate("helper", context=ctx, prompt="weather", options=RunOptions(output_schema=Weather))
    assert result.object == {"city": "Oslo", "celsius": -3.5}
    fmt = openai_server.chat_requests[0].body["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["required"] == ["city", "celsius"]


def test_structured_output_that_does_not_match_fails(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(ChatReply(text='{"city": "Oslo"}'))
    with pytest.raises(StructuredOutputInvalid):
        generate("helper", context=ctx, prompt="weather", options=RunOptions(output_schema=Weather))


def test_request_context_spoofing_is_refused(openai_server, make_agent, user):
    make_agent(request_context_schema={"properties": {"plan": {"type": "string", "enum": ["free", "pro"]}}})
    for values, key in (
        ({"tenantId": 999}, "tenantId"),
        ({"userId": 1}, "userId"),
        ({"resource_id": "x"}, "resource_id"),
    ):
        spoof = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, values=values)
        with pytest.raises(ValidationFailed) as caught:
            generate("helper", context=spoof, prompt="hi")
        assert f"requestContext.{key}" in caught.value.details
    undeclared = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, values={"admin": True})
    with pytest.raises(ValidationFailed):
        generate("helper", context=undeclared, prompt="hi")
    assert openai_server.chat_requests == []


def test_tools_see_the_authenticated_context_and_declared_keys(openai_server, make_agent, user):
    make_agent(request_context_schema={"properties": {"plan": {"type": "string"}}})
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_whoami", arguments={})]), ChatReply(text="ok")
    )
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, values={"plan": "pro"})
    result = generate("helper", context=ctx, prompt="who am i")
    assert result.tool_results[0]["output"] == {
        "tenant_id": user.membership.tenant_id,
        "user_id": user.pk,
        "plan": "pro",
        "run_id": result.run_id,
    }


def test_unknown_and_disabled_agents_tools_and_routes(openai_server, make_agent, ctx):
    from agents.services import agent_set_enabled, model_route_set_enabled, tool_set_enabled

    agent = make_agent()
    with pytest.raises(NotFound):
        generate("nope", context=ctx, prompt="hi")

    tool_set_enabled(tool_id="test_add", enabled=False)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 1, "b": 1})]),
        ChatReply(text="no tool"),
    )
    result = generate("helper", context=ctx, prompt="add")
    assert "test_add" not in {t["function"]["name"] for t in openai_server.chat_requests[0].body["tools"]}
    assert result.tool_results[0]["isError"]
    assert CALLS["add"] == []

    model_route_set_enabled(model="scripted/*", enabled=False)
    with pytest.raises(Disabled) as route:
        generate("helper", context=ctx, prompt="hi")
    assert "scripted/gpt-test" in route.value.message

    agent_set_enabled(agent=agent, enabled=False)
    with pytest.raises(Disabled) as disabled:
        generate("helper", context=ctx, prompt="hi")
    assert "helper" in disabled.value.message


def test_model_override_only_where_allowed(openai_server, make_agent, ctx):
    make_agent()
    with pytest.raises(Forbidden):
        generate("helper", context=ctx, prompt="hi", options=RunOptions(model="scripted/other"))
    make_agent(slug="flexible", allow_model_override=True)
    openai_server.set_models(["gpt-test", "gpt-test-mini"])
    cache_clear()
    openai_server.script(ChatReply(text="other model", model="gpt-test-mini"))
    result = generate(
        "flexible", context=ctx, prompt="hi", options=RunOptions(model="scripted/gpt-test-mini")
    )
    assert result.model == "scripted/gpt-test-mini"


def test_the_provider_key_never_reaches_spans_or_runs(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_add", arguments={"a": 1, "b": 1})]),
        ChatReply(text=f"the key is {SCRIPTED_KEY}"),
    )
    result = generate("helper", context=ctx, prompt=f"echo {SCRIPTED_KEY}")
    assert openai_server.chat_requests[0].headers["authorization"] == f"Bearer {SCRIPTED_KEY}"
    stored = [str(s.attributes) + s.error for s in Span.objects.filter(trace_id=result.trace_id)]
    run = Run.objects.get(id=result.run_id)
    stored += [str(run.input), str(run.result), str(run.error)]
    assert all(SCRIPTED_KEY not in text for text in stored)
    assert "[REDACTED]" in str(run.result)
