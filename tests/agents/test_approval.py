"""Approval over REST in-process: approve, decline, a second decision, several calls of one step."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from agents.models import Run, ToolCallGate
from agents.tools import ToolContext, tool
from tests.agents.conftest import CALLS
from tests.fakes.openai_server import ChatReply, ToolCall
from tests.isolation.world import body_of

PAYMENTS: list[tuple[str, int]] = []


class Payment(BaseModel):
    to: str
    amount: int


class Paid(BaseModel):
    paid: int
    key: str


@tool(
    id="test_pay",
    description="Pays someone; payments over 100 need approval",
    side_effect="external",
    needs_approval=lambda args, context: args.amount > 100,
)
def pay(ctx: ToolContext, args: Payment) -> Paid:
    PAYMENTS.append((ctx.idempotency_key, args.amount))
    return Paid(paid=args.amount, key=ctx.idempotency_key)


@pytest.fixture(autouse=True)
def _clear() -> None:
    PAYMENTS.clear()


@pytest.fixture
def agent(make_agent: Any) -> Any:
    return make_agent(tools=["test_pay", "test_add"])


def _suspend(openai_server: Any, api_client: Any, *calls: ToolCall, **body: Any) -> dict[str, Any]:
    openai_server.script(ChatReply(tool_calls=list(calls)))
    response = api_client.post("/api/agents/helper/generate", {"prompt": "pay", **body}, format="json")
    assert response.status_code == 200, response.json()
    result = response.json()
    assert result["status"] == "suspended"
    return result


def _sse(response: Any) -> list[dict[str, Any]]:
    chunks = []
    for line in body_of(response).splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            chunks.append(json.loads(line[6:]))
    return chunks


@pytest.mark.django_db(transaction=True)
def test_a_rule_holds_only_the_calls_it_names(openai_server, agent, api_client):
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="small", name="test_pay", arguments={"to": "ann", "amount": 20})]),
        ChatReply(text="paid 20"),
    )
    small = api_client.post("/api/agents/helper/generate", {"prompt": "pay ann 20"}, format="json").json()
    assert (small["status"], small["text"]) == ("completed", "paid 20")

    big = _suspend(
        openai_server, api_client, ToolCall(id="big", name="test_pay", arguments={"to": "bo", "amount": 500})
    )
    assert [p["toolCallId"] for p in big["pendingToolCalls"]] == ["big"]
    assert [amount for _, amount in PAYMENTS] == [20]  # the big one waits


@pytest.mark.django_db(transaction=True)
def test_approve_runs_the_tool_once_and_the_run_goes_on(openai_server, agent, api_client):
    waiting = _suspend(
        openai_server, api_client, ToolCall(id="p1", name="test_pay", arguments={"to": "bo", "amount": 500})
    )
    openai_server.script(ChatReply(text="Paid 500 to bo."))
    body = {"runId": waiting["runId"], "toolCallId": "p1"}

    approved = api_client.post("/api/agents/helper/approve-tool-call-generate", body, format="json")

    assert approved.status_code == 200, approved.json()
    result = approved.json()
    assert (result["status"], result["text"], result["runId"]) == (
        "completed",
        "Paid 500 to bo.",
        waiting["runId"],
    )
    key, amount = PAYMENTS[0]
    assert (len(PAYMENTS), key, amount) == (1, f"{waiting['runId']}:p1", 500)  # the call's stable key
    tool_message = next(m for m in openai_server.chat_requests[-1].messages if m["role"] == "tool")
    assert json.loads(tool_message["content"])["paid"] == 500
    run = Run.objects.get(id=waiting["runId"])
    assert run.status == "completed"
    gate = ToolCallGate.objects.get(run=run)
    assert (gate.status, gate.decided_by_id) == ("approved", run.user_id)

    again = api_client.post("/api/agents/helper/approve-tool-call-generate", body, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"
    assert again.json()["details"]["decision"]["status"] == "approved"
    assert len(PAYMENTS) == 1  # never run twice


@pytest.mark.django_db(transaction=True)
def test_decline_goes_back_to_the_model_with_the_reason_and_streams(openai_server, agent, api_client):
    waiting = _suspend(
        openai_server, api_client, ToolCall(id="p1", name="test_pay", arguments={"to": "bo", "amount": 500})
    )
    openai_server.script(ChatReply(text="I did not pay."))

    response = api_client.post(
        "/api/agents/helper/decline-tool-call",
        {"runId": waiting["runId"], "toolCallId": "p1", "reason": "too much"},
        format="json",
    )

    assert response.status_code == 200
    assert response["x-vercel-ai-ui-message-stream"] == "v1"
    chunks = _sse(response)
    types = [c["type"] for c in chunks]
    assert types[0] == "start"
    assert chunks[0]["messageId"] == waiting["runId"]
    assert "tool-output-denied" in types
    assert types[-1] == "finish"
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "I did not pay."
    assert PAYMENTS == []
    refusal = next(m for m in openai_server.chat_requests[-1].messages if m["role"] == "tool")
    assert "too much" in refusal["content"]
    assert json.loads(refusal["content"])["error"].startswith(
        "Declined: the call to tool 'test_pay' was not run"
    )
    assert Run.objects.get(id=waiting["runId"]).status == "completed"


@pytest.mark.django_db(transaction=True)
def test_several_calls_of_one_step_are_decided_one_by_one(openai_server, agent, api_client):
    waiting = _suspend(
        openai_server,
        api_client,
        ToolCall(id="a", name="test_pay", arguments={"to": "ann", "amount": 200}),
        ToolCall(id="b", name="test_pay", arguments={"to": "bo", "amount": 300}),
        ToolCall(id="c", name="test_add", arguments={"a": 1, "b": 1}),
    )
    assert sorted(p["toolCallId"] for p in waiting["pendingToolCalls"]) == ["a", "b"]
    assert CALLS["add"] == [(1, 1)]

    first = api_client.post(
        "/api/agents/helper/approve-tool-call-generate",
        {"runId": waiting["runId"], "toolCallId": "a"},
        format="json",
    ).json()
    assert first["status"] == "suspended"  # b still waits; nothing ran
    assert [p["toolCallId"] for p in first["pendingToolCalls"]] == ["b"]
    assert PAYMENTS == []

    openai_server.script(ChatReply(text="Paid ann; bo declined."))
    second = api_client.post(
        "/api/agents/helper/decline-tool-call-generate",
        {"runId": waiting["runId"], "toolCallId": "b", "reason": "not bo"},
        format="json",
    ).json()
    assert (second["status"], second["text"]) == ("completed", "Paid ann; bo declined.")
    assert [amount for _, amount in PAYMENTS] == [200]
    assert CALLS["add"] == [(1, 1)]  # the call that ran before the stop is not run again
    tool_messages = [m for m in openai_server.chat_requests[-1].messages if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["a", "b", "c"]


@pytest.mark.django_db(transaction=True)
def test_unknown_run_or_call_is_404_and_a_bad_body_400(openai_server, agent, api_client):
    waiting = _suspend(
        openai_server, api_client, ToolCall(id="p1", name="test_pay", arguments={"to": "bo", "amount": 500})
    )
    url = "/api/agents/helper/approve-tool-call-generate"
    unknown_run = {"runId": "00000000-0000-0000-0000-000000000000", "toolCallId": "p1"}
    assert api_client.post(url, unknown_run, format="json").status_code == 404
    assert (
        api_client.post(url, {"runId": waiting["runId"], "toolCallId": "nope"}, format="json").status_code
        == 404
    )
    assert api_client.post(url, {"runId": "not-a-uuid", "toolCallId": "p1"}, format="json").status_code == 400
    assert (
        api_client.post(
            "/api/agents/other/approve-tool-call-generate",
            {"runId": waiting["runId"], "toolCallId": "p1"},
            format="json",
        ).status_code
        == 404
    )
    assert ToolCallGate.objects.get(run_id=waiting["runId"]).status == "pending"


@pytest.mark.django_db(transaction=True)
def test_the_trace_shows_the_request_the_decision_and_the_tool_span(openai_server, agent, api_client, user):
    waiting = _suspend(
        openai_server, api_client, ToolCall(id="p1", name="test_pay", arguments={"to": "bo", "amount": 500})
    )
    openai_server.script(ChatReply(text="Paid."))
    done = api_client.post(
        "/api/agents/helper/approve-tool-call-generate",
        {"runId": waiting["runId"], "toolCallId": "p1", "reason": "checked"},
        format="json",
    ).json()

    # One run, one trace: the continuation's spans join the trace the run started.
    assert done["traceId"] == waiting["traceId"]
    assert Run.objects.get(id=waiting["runId"]).trace_id == uuid.UUID(waiting["traceId"])
    trace = api_client.get(f"/api/traces/{waiting['traceId']}").json()
    names = [s["name"] for s in sorted(trace["spans"], key=lambda s: s["seq"])]
    requested, decided_at, resumed = (
        names.index("approval.requested"),
        names.index("approval.decided"),
        names.index("run.resumed"),
    )
    assert requested < decided_at < resumed < names.index("tool.call")
    assert len({s["seq"] for s in trace["spans"]}) == len(trace["spans"])
    roots = [s for s in trace["spans"] if s["parent_id"] is None]
    assert [r["name"] for r in roots] == ["agent.run"]  # the continuation's run span sits under it
    spans = {s["name"]: s for s in trace["spans"]}
    decided = spans["approval.decided"]["attributes"]
    assert (decided["decision"], decided["decided_by"], decided["reason"]) == ("approved", user.pk, "checked")
    assert decided["decided_at"]
    tool = spans["tool.call"]["attributes"]
    assert (tool["status"], tool["retries"], tool["side_effect_id"]) == ("ok", 0, f"{waiting['runId']}:p1")
    assert tool["latency_ms"] >= 0
