"""Approve, decline and resume over a real socket: daphne on the Redis channel layer, the real
runtime, the scripted model. The continuation streams over the socket that decided and reaches
the thread's other tabs, numbered on from the run's last frame."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async

from agents.models import Run, ToolCallGate
from tests.chat.helpers import token_for
from tests.factories import UserFactory
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _ws(daphne_url: str, token: str) -> Any:
    url = daphne_url.replace("http://", "ws://") + "/ws/agents/demo/"
    return websockets.connect(url, additional_headers={"Authorization": f"Token {token}"})


async def _next(ws: Any, kind: str | None = None) -> dict[str, Any]:
    async with asyncio.timeout(90):  # the first run of a fresh server loads its models
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] != "heartbeat" and (kind is None or frame["type"] == kind):
                return frame


async def _until_end(ws: Any) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = await _next(ws)
        frames.append(frame)
        if frame["type"] == "run-end":
            return frames


def _chunks(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f["chunk"] for f in frames if f["type"] == "chunk"]


async def _suspended_run(ws: Any, thread: str, machine: str) -> tuple[str, list[dict[str, Any]]]:
    await ws.send(json.dumps({"type": "message", "threadId": thread, "text": f"Book {machine}"}))
    run_id = (await _next(ws, "run-started"))["runId"]
    frames = await _until_end(ws)
    assert frames[-1]["status"] == "suspended"
    return run_id, frames


@pytest.mark.parametrize("approve", [True, False])
async def test_a_decision_over_the_socket_continues_the_run_in_every_tab(
    demo_agent, openai_server, daphne_url, user, approve
):
    token = await sync_to_async(token_for)(user)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m5"}, id="b5")]),
        ChatReply(text="Done." if approve else "Not booked."),
    )
    async with _ws(daphne_url, token) as ws, _ws(daphne_url, token) as tab:
        await tab.send(json.dumps({"type": "subscribe", "threadId": "w-1"}))
        await _next(tab, "subscribed")
        run_id, first = await _suspended_run(ws, "w-1", "m5")
        request = next(c for c in _chunks(first) if c["type"] == "tool-approval-request")
        assert request["toolCallId"] == "b5"
        gate = await ToolCallGate.objects.aget(run_id=run_id, tool_call_id="b5")
        assert request["approvalId"] == str(gate.id)
        assert gate.status == "pending"

        decision: dict[str, Any] = {"type": "approve" if approve else "decline", "threadId": "w-1"}
        decision |= {"runId": run_id, "toolCallId": "b5"}
        if not approve:
            decision["reason"] = "not this week"
        await ws.send(json.dumps(decision))
        resumed = await _next(ws, "run-resumed")
        assert resumed["afterSeq"] == first[-1]["seq"]
        assert resumed["decision"]["status"] == ("approved" if approve else "declined")
        rest = await _until_end(ws)
        # The other tab on the thread is told the run goes on, then sees the same continuation,
        # numbered on from the first part.
        assert (await _until_end(tab))[-1]["status"] == "suspended"
        announced = await _next(tab)
        seen = await _until_end(tab)
    assert announced == {
        "type": "run-resumed",
        "runId": run_id,
        "threadId": "w-1",
        "afterSeq": first[-1]["seq"],
    }
    assert [f["seq"] for f in rest] == list(range(first[-1]["seq"] + 1, first[-1]["seq"] + 1 + len(rest)))
    assert [f["seq"] for f in seen] == [f["seq"] for f in rest]
    assert {f["runId"] for f in rest} == {run_id}
    assert rest[-1]["status"] == "completed"
    chunks = _chunks(rest)
    outcome = next(c for c in chunks if c.get("toolCallId") == "b5")
    if approve:
        assert outcome == {
            "type": "tool-output-available",
            "toolCallId": "b5",
            "output": {"machine": "m5", "booked": True},
        }
    else:
        assert outcome == {"type": "tool-output-denied", "toolCallId": "b5"}
        refusal = openai_server.chat_requests[-1].messages[-1]
        assert refusal["role"] == "tool"
        assert "not this week" in refusal["content"]
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == (
        "Done." if approve else "Not booked."
    )
    assert (await Run.objects.aget(id=run_id)).status == "completed"


async def test_a_second_decision_is_refused_with_the_first_and_another_user_gets_not_found(
    demo_agent, openai_server, daphne_url, user, tenant
):
    token = await sync_to_async(token_for)(user)
    stranger = await sync_to_async(lambda: token_for(UserFactory(tenant=tenant)))()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m6"}, id="b6")]),
        ChatReply(text="Booked."),
    )
    async with _ws(daphne_url, token) as ws, _ws(daphne_url, stranger) as other:
        run_id, _ = await _suspended_run(ws, "w-2", "m6")
        about = {"threadId": "w-2", "runId": run_id, "toolCallId": "b6"}
        await other.send(json.dumps({"type": "approve", **about}))
        refused = await _next(other, "error")
        assert (refused["code"], refused["runId"], refused["toolCallId"]) == ("not_found", run_id, "b6")
        assert (await ToolCallGate.objects.aget(run_id=run_id)).status == "pending"
        await ws.send(json.dumps({"type": "approve", **about}))
        await _next(ws, "run-resumed")
        assert (await _until_end(ws))[-1]["status"] == "completed"
        await ws.send(json.dumps({"type": "decline", **about, "reason": "changed my mind"}))
        again = await _next(ws, "error")
    assert again["code"] == "already_decided"
    assert again["details"]["decision"]["status"] == "approved"
    assert (await ToolCallGate.objects.aget(run_id=run_id)).status == "approved"
    executions = [r for r in openai_server.chat_requests if r.messages[-1]["role"] == "tool"]
    assert len(executions) == 1  # the tool ran once, the model continued once


async def test_a_decision_taken_through_the_api_streams_on_the_thread_the_run_belongs_to(
    demo_agent, openai_server, daphne_url, user
):
    """A run suspended in the chat and approved elsewhere (the REST route here; the admin's worker
    task takes the same path) shows its continuation in the tabs open on its thread."""
    token = await sync_to_async(token_for)(user)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m7"}, id="b7")]),
        ChatReply(text="Booked from afar."),
    )
    async with _ws(daphne_url, token) as ws:
        run_id, first = await _suspended_run(ws, "w-3", "m7")
        async with httpx.AsyncClient(base_url=daphne_url, timeout=60) as client:
            approved = await client.post(
                "/api/agents/demo/approve-tool-call-generate",
                json={"runId": run_id, "toolCallId": "b7"},
                headers={"Authorization": f"Token {token}"},
            )
        assert approved.status_code == 200, approved.text
        assert approved.json()["text"] == "Booked from afar."
        announced = await _next(ws)
        rest = await _until_end(ws)
    assert announced == {
        "type": "run-resumed",
        "runId": run_id,
        "threadId": "w-3",
        "afterSeq": first[-1]["seq"],
    }
    assert [f["seq"] for f in rest] == list(range(first[-1]["seq"] + 1, first[-1]["seq"] + 1 + len(rest)))
    assert rest[-1]["status"] == "completed"
    chunks = _chunks(rest)
    assert {
        "type": "tool-output-available",
        "toolCallId": "b7",
        "output": {"machine": "m7", "booked": True},
    } in chunks
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "Booked from afar."
