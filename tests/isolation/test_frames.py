"""The owner model for every WebSocket frame type (docs/security.md)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.fakes.openai_server import ChatReply
from tests.isolation.entries import SECRET
from tests.isolation.world import World


async def _socket(user: Any | None) -> Any:
    from tests.chat.helpers import connect, token_for

    token = await sync_to_async(token_for)(user) if user is not None else None
    comm = await connect("helper", token)
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _until_ack(comm: Any, thread: str) -> list[dict[str, Any]]:
    """Everything the consumer sent before answering a `subscribe` sent now (frames are handled in order)."""
    await comm.send_json_to({"type": "subscribe", "threadId": f"sync-{thread}"})
    frames: list[dict[str, Any]] = []
    while True:
        frame = await comm.receive_json_from(timeout=10)
        if frame.get("type") == "subscribed" and frame.get("threadId") == f"sync-{thread}":
            return frames
        frames.append(frame)


def _decisions(*, thread: str, run_id: str, tool_call_id: str) -> list[dict[str, Any]]:
    about = {"threadId": thread, "runId": run_id, "toolCallId": tool_call_id}
    return [
        {"type": "approve", **about},
        {"type": "decline", **about, "reason": "no"},
        {"type": "resume", **about, "resumeData": {"a": 1}},
    ]


async def _answer(comm: Any) -> list[dict[str, Any]]:
    """The frames answering a `message`: a run to its `run-end`, or an error frame (refused before
    any run started: another member's thread is "not found")."""
    frames: list[dict[str, Any]] = []
    while True:
        frame = await comm.receive_json_from(timeout=10)
        if frame.get("type") == "heartbeat":
            continue
        frames.append(frame)
        if frame.get("type") in {"run-end", "error"}:
            return frames


async def _intruder_failures(who: str, comm: Any, *, thread: str, run_id: str) -> list[str]:
    """What an intruder's socket received after its abort, replay and decision frames, and
    what its own message on the owner's thread id answered."""
    failures = []
    frames = await _until_ack(comm, who.replace(" ", "-"))
    # An error naming the run id the intruder sent is an echo of its own frame, not a leak.
    leaked = [
        f for f in frames if SECRET in str(f) or (f.get("runId") == run_id and f.get("type") != "error")
    ]
    if leaked:
        failures.append(f"{who} received the owner's frames {leaked}")
    refused = [f for f in frames if f.get("type") == "error" and f.get("code") == "not_found"]
    if len(refused) < 3:
        failures.append(f"{who}: approve, decline and resume were not answered not_found: {frames}")
    # A message on the owner's thread id: the intruder's own thread or "not found", never the history.
    await comm.send_json_to({"type": "message", "threadId": thread, "text": "what did I say?"})
    mine = await _answer(comm)
    if any(SECRET in str(f) for f in mine):
        failures.append(f"{who}'s message on the owner's thread id leaked {mine}")
    return failures


@pytest.mark.django_db(transaction=True)
async def test_no_websocket_frame_reaches_another_owners_run_or_thread(world: World, openai_server: Any):
    from tests.chat.helpers import frames_until_end

    thread = world.ids["thread"]
    owner = await _socket(world.owner)
    intruders = {
        "another member": await _socket(world.colleague),
        "another tenant": await _socket(world.stranger),
    }
    for comm in intruders.values():  # subscribed to the owner's thread id before the owner's run
        await comm.send_json_to({"type": "subscribe", "threadId": thread})
        assert (await comm.receive_json_from(timeout=10))["type"] == "subscribed"

    openai_server.script(ChatReply(text=" ".join([SECRET] * 30), chunk_delay_s=0.01))
    await owner.send_json_to({"type": "message", "threadId": thread, "text": f"again {SECRET}"})
    run_id = (await owner.receive_json_from(timeout=10))["runId"]
    while (await owner.receive_json_from(timeout=10)).get("chunk", {}).get("type") != "text-delta":
        pass
    for comm in intruders.values():
        await comm.send_json_to({"type": "abort", "threadId": thread, "runId": run_id})
        await comm.send_json_to({"type": "replay", "threadId": thread, "runId": run_id, "afterSeq": 0})
        for frame in _decisions(thread=thread, run_id=run_id, tool_call_id="call-1"):
            await comm.send_json_to(frame)
    failures: list[str] = []
    end = await frames_until_end(owner, wait_s=10)
    if end[-1]["status"] != "completed":
        failures.append(f"an intruder's abort stopped the owner's run: {end[-1]}")
    for who, comm in intruders.items():
        failures += await _intruder_failures(who, comm, thread=thread, run_id=run_id)
    for request in openai_server.chat_requests:  # the intruders' turns carried none of the owner's history
        if "what did I say?" in str(request.messages) and SECRET in str(request.body):
            failures.append(f"the owner's history reached the model for another caller: {request.messages}")
    anonymous = await _socket(None)
    closed = await anonymous.receive_output(timeout=10)
    if closed.get("code") != 4401:
        failures.append(f"an anonymous socket was not closed with 4401: {closed}")
    for comm in [owner, *intruders.values()]:
        await comm.disconnect()
    assert not failures, "\n".join(failures)


@pytest.mark.django_db(transaction=True)
async def test_no_decision_frame_decides_another_owners_waiting_call(world: World, openai_server: Any):
    from agents.models import ToolCallGate
    from tests.chat.helpers import frames_until_end

    run_id, call_id = world.ids["waiting_run"], world.ids["waiting_call"]
    failures = []
    for who, user in (("another member", world.colleague), ("another tenant", world.stranger)):
        comm = await _socket(user)
        for frame in _decisions(thread="t-waiting", run_id=run_id, tool_call_id=call_id):
            await comm.send_json_to(frame)
        answers = await _until_ack(comm, who.replace(" ", "-"))
        codes = [(f.get("type"), f.get("code")) for f in answers]
        if codes != [("error", "not_found")] * 3 or SECRET in str(answers):
            failures.append(f"{who} deciding the owner's call got {answers}")
        await comm.disconnect()
    gate = await ToolCallGate.objects.aget(run_id=run_id, tool_call_id=call_id)
    if gate.status != "pending":
        failures.append(f"an intruder's frame decided the owner's call: {gate.status}")
    # The owner still decides it, and the run goes on.
    openai_server.script(ChatReply(text="the sum is 3"))
    owner = await _socket(world.owner)
    await owner.send_json_to(
        {"type": "approve", "threadId": "t-waiting", "runId": run_id, "toolCallId": call_id}
    )
    resumed = await owner.receive_json_from(timeout=30)
    if resumed.get("type") != "run-resumed":
        failures.append(f"the owner's approval was not taken: {resumed}")
    else:
        end = await frames_until_end(owner, wait_s=30)
        if end[-1]["status"] != "completed":
            failures.append(f"the owner's approval did not continue the run: {end[-1]}")
    await owner.disconnect()
    assert not failures, "\n".join(failures)


@pytest.mark.django_db(transaction=True)
async def test_no_workflow_frame_reaches_another_owners_workflow_run(world: World, openai_server: Any):
    from workflows.models import Suspension

    run_id = world.ids["workflow_run"]
    failures = []
    for who, user in (("another member", world.colleague), ("another tenant", world.stranger)):
        comm = await _socket(user)
        await comm.send_json_to({"type": "workflow-watch", "runId": run_id, "offset": 0})
        await comm.send_json_to(
            {"type": "workflow-resume", "runId": run_id, "step": "hold", "resumeData": {"answer": 1}}
        )
        answers = await _until_ack(comm, who.replace(" ", "-"))
        codes = [(f.get("type"), f.get("code")) for f in answers]
        if codes != [("error", "not_found")] * 2 or SECRET in str(answers):
            failures.append(f"{who} watching or resuming the owner's workflow run got {answers}")
        await comm.send_json_to(
            {"type": "workflow-start", "workflowId": "t-hold", "inputData": {"text": "mine"}}
        )
        started = await comm.receive_json_from(timeout=30)
        while started.get("type") == "heartbeat":
            started = await comm.receive_json_from(timeout=30)
        if started.get("type") != "workflow-started" or started.get("runId") == run_id:
            failures.append(f"{who}'s workflow-start did not start a run of its own: {started}")
        own = await _until_ack(comm, f"{who.replace(' ', '-')}-own")
        if SECRET in str(own) or any(f.get("runId") == run_id for f in own):
            failures.append(f"{who}'s own run carried the owner's: {own}")
        await comm.disconnect()
    suspension = await Suspension.objects.aget(run_id=run_id)
    if suspension.status != "open":
        failures.append(f"an intruder's frame resumed the owner's step: {suspension.status}")
    assert not failures, "\n".join(failures)
