"""Workflow runs over the chat WebSocket: start, the numbered events (kept open while the run is
suspended, ending with its terminal event), resume, a watch from an offset after a reconnect,
approvals, and the owner model (another user's run answers not_found)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.chat.helpers import connect, token_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def socket_agent(db: None) -> Any:
    from agents.services import agent_save

    return agent_save(slug="t-approver", name="Approver", instructions="Approves.", model="scripted/gpt-test")


async def _socket(user: Any) -> Any:
    comm = await connect("t-approver", await sync_to_async(token_for)(user))
    connected, _ = await comm.connect()
    assert connected
    return comm


async def _next(comm: Any) -> dict[str, Any]:
    """The next frame that is not a heartbeat; fails after two heartbeats with nothing else."""
    for _ in range(3):
        frame: dict[str, Any] = await comm.receive_json_from(timeout=30)
        if frame.get("type") != "heartbeat":
            return frame
    raise AssertionError("only heartbeats came for 30 s")


async def _events_until(comm: Any, last_type: str) -> list[dict[str, Any]]:
    frames = []
    while True:
        frame = await _next(comm)
        assert frame["type"] == "workflow-event", frame
        frames.append(frame)
        if frame["event"]["type"] == last_type:
            return frames


async def _split_until(comm: Any, last_type: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Other frames and event frames, up to the event `last_type` (a resume's events may come
    before its answer: the run goes on while the answer is sent)."""
    answers, events = [], []
    while True:
        frame = await _next(comm)
        if frame["type"] != "workflow-event":
            answers.append(frame)
            continue
        events.append(frame)
        if frame["event"]["type"] == last_type:
            if not answers:
                answers.append(await _next(comm))
            return answers, events


async def test_start_watch_resume_and_watch_again_from_an_offset(user: Any, socket_agent: Any) -> None:
    comm = await _socket(user)
    await comm.send_json_to({"type": "workflow-start", "workflowId": "t-suspend", "inputData": {"value": 1}})
    started = await _next(comm)
    assert started["type"] == "workflow-started"
    run_id = started["runId"]
    before = await _events_until(comm, "workflow-step-suspended")
    assert [f["seq"] for f in before] == list(range(1, len(before) + 1))
    assert before[-1]["event"]["data"]["payload"] == {"question": "what to add to 2?"}
    assert await comm.receive_nothing(timeout=0.5)  # suspended: the watch stays open, nothing more yet
    await comm.send_json_to(
        {"type": "workflow-resume", "runId": run_id, "step": "ask", "resumeData": {"answer": 5}}
    )
    answers, after = await _split_until(comm, "workflow-finish")
    assert answers == [{"type": "workflow-resumed", "runId": run_id, "path": "1:ask"}]
    assert after[0]["seq"] == before[-1]["seq"] + 1
    assert after[-1]["event"]["data"]["output"] == {"value": 8}
    assert await comm.receive_nothing(timeout=0.5)  # the terminal event was the last frame
    await comm.disconnect()

    again = await _socket(user)  # a reconnect: watch from the last number seen before it
    offset = before[-1]["seq"]
    await again.send_json_to({"type": "workflow-watch", "runId": run_id, "offset": offset})
    replayed = await _events_until(again, "workflow-finish")
    assert [f["seq"] for f in replayed] == [f["seq"] for f in after]
    await again.send_json_to(
        {"type": "workflow-resume", "runId": run_id, "step": "ask", "resumeData": {"answer": 1}}
    )
    conflict = await _next(again)
    assert conflict["type"] == "error"
    assert conflict["code"] == "run_conflict"
    await again.disconnect()


async def test_an_approval_step_is_decided_with_a_resume_frame(user: Any, socket_agent: Any) -> None:
    from agents.models import ToolCallGate

    comm = await _socket(user)
    await comm.send_json_to({"type": "workflow-start", "workflowId": "t-approve", "inputData": {"value": 1}})
    run_id = (await _next(comm))["runId"]
    suspended = (await _events_until(comm, "workflow-step-suspended"))[-1]["event"]
    approval = suspended["data"]["approval"]
    assert approval["agentId"] == "t-approver"
    await comm.send_json_to(
        {
            "type": "workflow-resume",
            "runId": run_id,
            "step": "sign-off",
            "resumeData": {"approved": False, "reason": "no"},
        }
    )
    answers, events = await _split_until(comm, "workflow-finish")
    assert [a["type"] for a in answers] == ["workflow-resumed"]
    finish = events[-1]["event"]
    assert finish["data"]["output"] == {"approved": False, "reason": "no", "value": 2}
    gate = await ToolCallGate.objects.aget(pk=approval["approvalId"])
    assert gate.status == "declined"
    await comm.disconnect()


async def test_another_users_run_is_not_found(user: Any, tenant: Any, socket_agent: Any) -> None:
    from core.access import actor_for_user
    from workflows import services

    def start() -> Any:
        return services.run_start(
            actor=actor_for_user(user), workflow_id="t-hold", input_data={"text": "secret-7731"}
        )

    run = await sync_to_async(start)()
    other = await sync_to_async(UserFactory)(tenant=tenant)
    comm = await _socket(other)
    for frame in (
        {"type": "workflow-watch", "runId": str(run.pk), "offset": 0},
        {"type": "workflow-resume", "runId": str(run.pk), "step": "hold", "resumeData": {"answer": 1}},
        {"type": "workflow-watch", "runId": "not-a-uuid"},
    ):
        await comm.send_json_to(frame)
        answer = await _next(comm)
        assert answer["type"] == "error"
        assert answer["code"] == "not_found"
        assert "secret-7731" not in str(answer)
    await comm.send_json_to(
        {"type": "workflow-start", "workflowId": "t-suspend", "inputData": {"value": "x"}}
    )
    bad = await _next(comm)
    assert bad["code"] == "validation_error"
    assert "inputData.value" in bad["details"]
    await comm.disconnect()
