"""Suspension and resume, cancel, expiry, a new message on a waiting thread, who may decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel

from agents.models import Run, ToolCallGate
from agents.runs.services import gates_expire, runs_sweep_interrupted
from agents.tools import ToolContext, ToolkitUse, tool, toolkit_register
from core.models import Membership
from memory.models import Message
from tests.agents.test_approval import _sse
from tests.factories import UserFactory
from tests.fakes.openai_server import ChatReply, ToolCall

BOOKINGS: list[dict[str, Any]] = []


class Booking(BaseModel):
    room: str


class Confirm(BaseModel):
    seats: int
    confirmed: bool


class Question(BaseModel):
    message: str


class Booked(BaseModel):
    room: str
    seats: int


@tool(
    id="test_book",
    description="Books a room; asks how many seats first",
    side_effect="write",
    suspend_schema=Question,
    resume_schema=Confirm,
)
def book(ctx: ToolContext, args: Booking) -> Booked:
    if ctx.resume_data is None:
        ctx.suspend({"message": f"How many seats in {args.room}?"})
    assert isinstance(ctx.resume_data, Confirm)
    BOOKINGS.append({"room": args.room, "seats": ctx.resume_data.seats, "key": ctx.idempotency_key})
    return Booked(room=args.room, seats=ctx.resume_data.seats)


@pytest.fixture(autouse=True)
def _clear() -> None:
    BOOKINGS.clear()


@pytest.fixture
def agent(make_agent: Any) -> Any:
    return make_agent(tools=["test_book", "test_add"], memory={"last_messages": 10})


def _start(openai_server: Any, api_client: Any, *, thread: str = "t1", **body: Any) -> dict[str, Any]:
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="b1", name="test_book", arguments={"room": "Ada"})])
    )
    response = api_client.post(
        "/api/agents/helper/generate",
        {"prompt": "book Ada", "memory": {"thread": thread}, **body},
        format="json",
    )
    assert response.status_code == 200, response.json()
    return response.json()


@pytest.mark.django_db(transaction=True)
def test_a_tool_suspends_with_its_payload_and_resumes_with_validated_data(openai_server, agent, api_client):
    waiting = _start(openai_server, api_client)
    assert waiting["status"] == "suspended"
    [pending] = waiting["pendingToolCalls"]
    assert (pending["kind"], pending["suspendPayload"]) == (
        "suspension",
        {"message": "How many seats in Ada?"},
    )
    assert pending["resumeSchema"]["required"] == ["seats", "confirmed"]
    listed = api_client.get("/api/agents/helper/suspended-runs?threadId=t1").json()
    assert [r["runId"] for r in listed] == [waiting["runId"]]
    assert api_client.get("/api/agents/helper/suspended-runs?threadId=other").json() == []

    bad = api_client.post(
        "/api/agents/helper/resume-generate",
        {"runId": waiting["runId"], "toolCallId": "b1", "resumeData": {"seats": "many"}},
        format="json",
    )
    assert bad.status_code == 400
    assert set(bad.json()["details"]) == {"resumeData.seats", "resumeData.confirmed"}
    assert Run.objects.get(id=waiting["runId"]).status == "suspended"  # still waiting
    approve = api_client.post(
        "/api/agents/helper/approve-tool-call-generate",
        {"runId": waiting["runId"], "toolCallId": "b1"},
        format="json",
    )
    assert approve.status_code == 400  # a suspension is resumed, not approved

    openai_server.script(ChatReply(text="Booked Ada for 4."))
    response = api_client.post(
        "/api/agents/helper/resume-stream",
        {"runId": waiting["runId"], "toolCallId": "b1", "resumeData": {"seats": 4, "confirmed": True}},
        format="json",
    )
    chunks = _sse(response)
    assert {
        "type": "tool-output-available",
        "toolCallId": "b1",
        "output": {"room": "Ada", "seats": 4},
    } in chunks
    assert chunks[-1]["type"] == "finish"
    assert [{"room": "Ada", "seats": 4, "key": f"{waiting['runId']}:b1"}] == BOOKINGS
    run = Run.objects.get(id=waiting["runId"])
    assert run.status == "completed"
    assert ToolCallGate.objects.get(run=run).resume_data == {"seats": 4, "confirmed": True}
    answer = Message.objects.get(id=f"{run.id}-out")  # the whole turn is in memory once it ends
    assert [p["type"] for p in answer.parts] == ["tool-call", "tool-result", "text"]


@pytest.mark.django_db(transaction=True)
def test_a_stream_shows_the_suspension_as_a_data_part(openai_server, agent, api_client):
    waiting = _start(openai_server, api_client)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="b2", name="test_book", arguments={"room": "Bo"})])
    )
    resumed = api_client.post(
        "/api/agents/helper/resume-stream",
        {"runId": waiting["runId"], "toolCallId": "b1", "resumeData": {"seats": 2, "confirmed": True}},
        format="json",
    )
    chunks = _sse(resumed)
    suspended = [c for c in chunks if c["type"] == "data-tool-suspended"]
    assert [c["data"]["toolCallId"] for c in suspended] == ["b2"]  # the model asked again: waits again
    assert chunks[-1]["messageMetadata"]["status"] == "suspended"
    assert chunks[-1]["finishReason"] == "tool-calls"  # the AI SDK knows no "suspended" reason


@pytest.mark.django_db(transaction=True)
def test_cancel_ends_a_suspended_run_and_a_second_cancel_is_409(openai_server, agent, api_client):
    waiting = _start(openai_server, api_client)
    response = api_client.post(f"/api/runs/{waiting['runId']}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert ToolCallGate.objects.get(run_id=waiting["runId"]).status == "cancelled"
    assert api_client.post(f"/api/runs/{waiting['runId']}/cancel").status_code == 409
    late = api_client.post(
        "/api/agents/helper/resume-generate",
        {"runId": waiting["runId"], "toolCallId": "b1", "resumeData": {"seats": 1, "confirmed": True}},
        format="json",
    )
    assert late.status_code == 409
    assert late.json()["details"]["decision"]["status"] == "cancelled"
    assert BOOKINGS == []


@pytest.mark.django_db(transaction=True)
def test_an_expired_approval_is_declined_and_releases_the_thread(
    openai_server, make_agent, api_client, settings
):
    make_agent(tools=["test_add"], memory={"last_messages": 10})
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="a1", name="test_add", arguments={"a": 1, "b": 2})])
    )
    waiting = api_client.post(
        "/api/agents/helper/generate",
        {"prompt": "add", "requireToolApproval": True, "memory": {"thread": "t-exp"}},
        format="json",
    ).json()
    gate = ToolCallGate.objects.get(run_id=waiting["runId"])
    assert gate.expires_at is not None

    assert gates_expire(now=gate.expires_at - timedelta(seconds=1)) == 0
    assert gates_expire(now=gate.expires_at + timedelta(seconds=1)) == 1

    gate.refresh_from_db()
    assert (gate.status, gate.reason) == ("expired", "expired")
    run = Run.objects.get(id=waiting["runId"])
    assert (run.status, run.error["code"]) == ("cancelled", "approval_expired")
    # The thread holds a whole turn (the call and its refusal), so the next message runs normally.
    stored = Message.objects.get(id=f"{run.id}-out")
    assert [p["type"] for p in stored.parts] == ["tool-call", "tool-result"]
    assert "expired" in str(stored.parts[1]["output"])
    openai_server.script(ChatReply(text="Hello again."))
    after = api_client.post(
        "/api/agents/helper/generate", {"prompt": "hi", "memory": {"thread": "t-exp"}}, format="json"
    )
    assert after.json()["text"] == "Hello again."
    sent = openai_server.chat_requests[-1].messages
    assert any(m["role"] == "tool" and m["tool_call_id"] == "a1" for m in sent)


@pytest.mark.django_db(transaction=True)
def test_a_new_message_declines_what_the_thread_waits_on(openai_server, agent, api_client):
    waiting = _start(openai_server, api_client, thread="t-new")
    openai_server.script(ChatReply(text="Sure, something else."))
    after = api_client.post(
        "/api/agents/helper/generate", {"prompt": "never mind", "memory": {"thread": "t-new"}}, format="json"
    ).json()
    assert after["status"] == "completed"
    gate = ToolCallGate.objects.get(run_id=waiting["runId"])
    assert (gate.status, gate.reason) == ("declined", "superseded by a new message")
    assert Run.objects.get(id=waiting["runId"]).status == "cancelled"
    assert BOOKINGS == []


@pytest.mark.django_db(transaction=True)
def test_another_member_gets_404_and_a_tenant_admin_may_decide(openai_server, agent, api_client, user):
    waiting = _start(openai_server, api_client)
    body = {"runId": waiting["runId"], "toolCallId": "b1", "resumeData": {"seats": 3, "confirmed": True}}
    tenant = user.membership.tenant
    colleague = UserFactory(tenant=tenant)
    admin: Any = UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN)
    from tests.isolation.world import client_for

    refused = client_for(colleague).post("/api/agents/helper/resume-generate", body, format="json")
    assert refused.status_code == 404
    assert client_for(colleague).get("/api/agents/helper/suspended-runs").json() == []
    assert ToolCallGate.objects.get(run_id=waiting["runId"]).status == "pending"

    openai_server.script(ChatReply(text="Booked for 3."))
    decided = client_for(admin).post("/api/agents/helper/resume-generate", body, format="json")
    assert decided.status_code == 200, decided.json()
    assert decided.json()["text"] == "Booked for 3."
    assert ToolCallGate.objects.get(run_id=waiting["runId"]).decided_by_id == admin.pk


@pytest.mark.django_db(transaction=True)
def test_the_sweeper_marks_runs_left_running(make_agent, user, settings):
    agent = make_agent()
    old = datetime.now(UTC) - timedelta(seconds=settings.RUN_INTERRUPTED_AFTER_S + 60)
    fields = {"tenant_id": user.membership.tenant_id, "agent": agent, "agent_version": 1, "user": user}
    lost = Run.objects.create(created_at=old, **fields)
    fresh = Run.objects.create(created_at=datetime.now(UTC), **fields)
    checkpointed = Run.objects.create(created_at=old, checkpoint_at=datetime.now(UTC), **fields)

    assert runs_sweep_interrupted() == 1

    statuses = {r.id: r.status for r in Run.objects.all()}
    assert statuses == {lost.id: "interrupted", fresh.id: "running", checkpointed.id: "running"}


@pytest.mark.django_db(transaction=True)
def test_auto_resume_turns_the_next_message_into_resume_data_or_asks_again(
    openai_server, make_agent, api_client
):
    make_agent(tools=["test_book"], memory={"last_messages": 10}, auto_resume_suspended_tools=True)
    waiting = _start(openai_server, api_client, thread="t-auto")

    # The model cannot find the data in the message: the tool still waits, the agent asks again.
    openai_server.script(ChatReply(text='{"seats": "a few"}'), ChatReply(text="How many seats exactly?"))
    vague = api_client.post(
        "/api/agents/helper/generate", {"prompt": "a few", "memory": {"thread": "t-auto"}}, format="json"
    ).json()
    assert (vague["status"], vague["text"]) == ("completed", "How many seats exactly?")
    assert vague["runId"] != waiting["runId"]
    note = openai_server.chat_requests[-1].messages[-1]
    assert note["role"] == "system"
    assert "How many seats in Ada?" in note["content"]
    assert ToolCallGate.objects.get(run_id=waiting["runId"]).status == "pending"
    assert BOOKINGS == []

    openai_server.script(
        ChatReply(text='{"seats": 4, "confirmed": true}'), ChatReply(text="Booked Ada for 4.")
    )
    clear = api_client.post(
        "/api/agents/helper/generate",
        {"prompt": "4 seats, yes", "memory": {"thread": "t-auto"}},
        format="json",
    ).json()
    extraction = openai_server.chat_requests[-2]
    assert extraction.body["response_format"]["json_schema"]["schema"]["required"] == ["seats", "confirmed"]
    assert "4 seats, yes" in extraction.messages[-1]["content"]
    assert (clear["runId"], clear["status"], clear["text"]) == (
        waiting["runId"],
        "completed",
        "Booked Ada for 4.",
    )
    assert [{"room": "Ada", "seats": 4, "key": f"{waiting['runId']}:b1"}] == BOOKINGS
    gate = ToolCallGate.objects.get(run_id=waiting["runId"])
    assert (gate.status, gate.resume_data) == ("resumed", {"seats": 4, "confirmed": True})
    texts = [p.get("text") for m in Message.objects.filter(thread_id="t-auto") for p in m.parts]
    assert "4 seats, yes" in texts  # the user's reply is in the thread


toolkit_register(name="test_bookkit", tools=["test_book"], description="Room booking, for tests")


@pytest.mark.django_db(transaction=True)
def test_a_tool_renamed_by_a_toolkit_is_validated_and_auto_resumed_under_its_new_name(
    openai_server, make_agent, api_client
):
    make_agent(
        tools=[],
        toolkits=[ToolkitUse(toolkit="test_bookkit", rename={"test_book": "reserve"})],
        memory={"last_messages": 10},
        auto_resume_suspended_tools=True,
    )
    openai_server.script(ChatReply(tool_calls=[ToolCall(id="r1", name="reserve", arguments={"room": "Ada"})]))
    waiting = api_client.post(
        "/api/agents/helper/generate", {"prompt": "book Ada", "memory": {"thread": "t-kit"}}, format="json"
    ).json()
    assert waiting["status"] == "suspended"
    gate = ToolCallGate.objects.get(run_id=waiting["runId"])
    assert gate.tool_name == "reserve"
    assert (gate.resume_schema or {})["required"] == ["seats", "confirmed"]

    # Resume data is checked against the renamed tool's schema too.
    bad = api_client.post(
        "/api/agents/helper/resume-generate",
        {"runId": waiting["runId"], "toolCallId": "r1", "resumeData": {"seats": "many"}},
        format="json",
    )
    assert bad.status_code == 400, bad.json()
    assert set(bad.json()["details"]) == {"resumeData.seats", "resumeData.confirmed"}

    # The next message resumes it: the model extracts the data against that schema.
    openai_server.script(
        ChatReply(text='{"seats": 2, "confirmed": true}'), ChatReply(text="Booked Ada for 2.")
    )
    done = api_client.post(
        "/api/agents/helper/generate",
        {"prompt": "2 seats, yes", "memory": {"thread": "t-kit"}},
        format="json",
    ).json()
    assert (done["runId"], done["status"], done["text"]) == (
        waiting["runId"],
        "completed",
        "Booked Ada for 2.",
    )
    assert [{"room": "Ada", "seats": 2, "key": f"{waiting['runId']}:r1"}] == BOOKINGS
    gate.refresh_from_db()
    assert (gate.status, gate.resume_data) == ("resumed", {"seats": 2, "confirmed": True})
    # The suspension, the extraction from the message and the resume are all in the run's one trace.
    assert done["traceId"] == waiting["traceId"]
    trace = api_client.get(f"/api/traces/{waiting['traceId']}").json()
    names = [s["name"] for s in sorted(trace["spans"], key=lambda s: s["seq"])]
    assert names.index("suspension.requested") < names.index("suspension.extract")
    assert names.index("suspension.extract") < names.index("suspension.resumed") < names.index("run.resumed")
    resumed = next(s for s in trace["spans"] if s["name"] == "suspension.resumed")["attributes"]
    assert (resumed["decision"], resumed["reason"]) == ("resumed", "resumed from the user's message")
