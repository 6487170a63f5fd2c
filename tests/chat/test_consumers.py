"""The chat WebSocket through Channels' WebsocketCommunicator, with the scripted provider."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.chat import scripted_runtime
from tests.chat.helpers import chunks, connect, frames_until_end, text_of, token_for
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


async def _open(token: str, agent: str = "demo") -> Any:
    comm = await connect(agent, token)
    connected, _ = await comm.connect(timeout=30)
    assert connected
    return comm


async def test_streams_text_with_contiguous_sequence_numbers(scripted_chat, token):
    scripted_chat.script(ChatReply(text="Hello there, how can I help today?"))
    comm = await _open(token)
    await comm.send_json_to({"type": "message", "threadId": "t-text", "text": "hi", "clientId": "c1"})
    started = await comm.receive_json_from(timeout=5)
    assert started["type"] == "run-started"
    assert started["clientId"] == "c1"
    frames = await frames_until_end(comm)
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert {f["runId"] for f in frames} == {started["runId"]}
    types = [c["type"] for c in chunks(frames)]
    assert types[:3] == ["start", "data-run", "start-step"]
    assert types[-3:] == ["text-end", "finish-step", "finish"]
    assert text_of(frames) == "Hello there, how can I help today?"
    assert frames[-1]["status"] == "completed"
    # The frame wraps the chunk; the chunk carries only the SDK's own keys.
    assert set(chunks(frames)[0]) <= {"type", "messageId", "messageMetadata"}
    await comm.disconnect()


async def test_tool_input_and_output_chunks_in_order(scripted_chat, token):
    scripted_chat.script(
        ChatReply(tool_calls=[ToolCall(name="check_availability", arguments={"machine": "m1"}, id="call_1")]),
        ChatReply(text="Machine m1 is available."),
    )
    comm = await _open(token)
    await comm.send_json_to({"type": "message", "threadId": "t-tool", "text": "is m1 free?"})
    await comm.receive_json_from(timeout=5)
    types = [c["type"] for c in chunks(await frames_until_end(comm))]
    order = ["tool-input-start", "tool-input-available", "tool-output-available", "text-start", "finish"]
    positions = [types.index(t) for t in order]
    assert positions == sorted(positions)
    assert types.count("start-step") == 2
    await comm.disconnect()


async def test_abort_closes_the_provider_stream_and_keeps_the_partial_answer(scripted_chat, token):
    scripted_chat.script(ChatReply(text=" ".join(f"w{i}" for i in range(200)), chunk_delay_s=0.02))
    comm = await _open(token)
    await comm.send_json_to({"type": "message", "threadId": "t-abort", "text": "long please"})
    run_id = (await comm.receive_json_from(timeout=5))["runId"]
    while (await comm.receive_json_from(timeout=5)).get("chunk", {}).get("type") != "text-delta":
        pass
    await comm.send_json_to({"type": "abort", "threadId": "t-abort", "runId": run_id})
    frames = await frames_until_end(comm)
    assert chunks(frames)[-1]["type"] == "abort"
    assert frames[-1]["status"] == "aborted"
    for _ in range(100):
        if scripted_chat.disconnects:
            break
        await asyncio.sleep(0.02)
    assert scripted_chat.disconnects >= 1
    role, text, status = scripted_runtime.PERSISTED["t-abort"][-1]
    assert (role, status) == ("assistant", "aborted")
    assert text.startswith("w0")
    assert len(text.split()) < 200
    await comm.disconnect()


async def test_disconnect_keeps_the_run_and_reconnect_replays_after_a_sequence_number(scripted_chat, token):
    scripted_chat.script(ChatReply(text=" ".join(f"t{i}" for i in range(30)), chunk_delay_s=0.01))
    first = await _open(token)
    await first.send_json_to({"type": "message", "threadId": "t-replay", "text": "go"})
    run_id = (await first.receive_json_from(timeout=5))["runId"]
    seen = [await first.receive_json_from(timeout=5) for _ in range(4)]
    await first.disconnect()
    for _ in range(200):  # the run goes on without any client and is persisted
        if any(r == "assistant" for r, *_ in scripted_runtime.PERSISTED.get("t-replay", [])):
            break
        await asyncio.sleep(0.02)
    assert scripted_runtime.PERSISTED["t-replay"][-1][2] == "done"

    second = await _open(token)
    await second.send_json_to({"type": "replay", "threadId": "t-replay", "runId": run_id, "afterSeq": 4})
    rest = await frames_until_end(second)
    assert [f["seq"] for f in rest] == list(range(5, 5 + len(rest)))
    assert text_of(seen + rest) == " ".join(f"t{i}" for i in range(30))
    await second.disconnect()


async def test_a_second_tab_on_the_thread_sees_the_run(scripted_chat, token):
    scripted_chat.script(ChatReply(text="Both tabs see this."))
    tab1, tab2 = await _open(token), await _open(token)
    await tab2.send_json_to({"type": "subscribe", "threadId": "t-tabs"})
    assert (await tab2.receive_json_from(timeout=5))["type"] == "subscribed"
    await tab1.send_json_to({"type": "message", "threadId": "t-tabs", "text": "hello"})
    await tab1.receive_json_from(timeout=5)
    frames1, frames2 = await frames_until_end(tab1), await frames_until_end(tab2)
    assert frames1 == frames2
    assert text_of(frames2) == "Both tabs see this."
    await tab1.disconnect()
    await tab2.disconnect()


async def test_another_user_does_not_see_the_thread(scripted_chat, token, tenant):
    from tests.factories import UserFactory

    other = await sync_to_async(lambda: token_for(UserFactory(tenant=tenant)))()
    scripted_chat.script(ChatReply(text="Private."))
    mine, theirs = await _open(token), await _open(other)
    await theirs.send_json_to({"type": "subscribe", "threadId": "t-private"})
    await theirs.receive_json_from(timeout=5)
    await mine.send_json_to({"type": "message", "threadId": "t-private", "text": "secret"})
    await mine.receive_json_from(timeout=5)
    await frames_until_end(mine)
    assert await theirs.receive_nothing(timeout=0.2)
    await mine.disconnect()
    await theirs.disconnect()


async def _close_code(comm: Any) -> tuple[int, str]:
    connected, _ = await comm.connect(timeout=30)
    assert connected
    message = await comm.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"], message.get("reason", "")


async def test_unauthenticated_socket_is_closed_with_4401():
    code, reason = await _close_code(await connect("demo", None))
    assert code == 4401
    assert "Authentication" in reason


async def test_bad_token_is_closed_with_4401(db):
    code, _ = await _close_code(await connect("demo", "not-a-token"))
    assert code == 4401


async def test_unknown_agent_is_closed_with_4404(scripted_chat, token):
    code, reason = await _close_code(await connect("no-such-agent", token))
    assert code == 4404
    assert "no-such-agent" in reason


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "message", "threadId": "t1"}, "message.text"),
        ({"type": "message", "threadId": "bad thread id!", "text": "x"}, "message.threadId"),
        ({"type": "launch"}, "frame"),
        ({"type": "replay", "threadId": "t1", "runId": "r", "afterSeq": -1}, "replay.afterSeq"),
        (
            {"type": "message", "threadId": "t1", "text": "x", "model": "openai/" + "x" * 5000},
            "message.model",
        ),
        ({"type": "message", "threadId": "t1", "text": "hi \u0000"}, "message.text"),
        ({"type": "message", "threadId": "t1", "text": "hi", "clientId": "a\u0000"}, "message.clientId"),
        ({"type": "message", "threadId": "t1", "text": "hi", "model": "openai/x\u0000"}, "message.model"),
        ({"type": "message", "threadId": "t1", "text": "hi \ud800"}, "message.text"),
        (
            {"type": "decline", "threadId": "t1", "runId": "r", "toolCallId": "c", "reason": "no\u0000way"},
            "decline.reason",
        ),
        (
            {"type": "workflow-start", "workflowId": "research", "inputData": {"topic": "a\u0000b"}},
            "workflow-start.inputData.topic",
        ),
        (
            {
                "type": "resume",
                "threadId": "t1",
                "runId": "r",
                "toolCallId": "c",
                "resumeData": {"k\u0000": 1},
            },
            "resume.resumeData.k\\x00",
        ),
        (
            {"type": "workflow-resume", "runId": "r", "resumeData": {"a": ["ok", "\u0000"]}},
            "workflow-resume.resumeData.a.1",
        ),
        (
            {"type": "replay", "threadId": "t1", "runId": "r", "afterSeq": 18446744073709551615},
            "replay.afterSeq",
        ),
        (
            {"type": "message", "threadId": "t1", "text": "hi", "requireToolApproval": "yes"},
            "message.requireToolApproval",
        ),
        (
            {"type": "message", "threadId": "t1", "text": "hi", "requireToolApproval": 1},
            "message.requireToolApproval",
        ),
        ({"type": "replay", "threadId": "t1", "runId": "r", "afterSeq": 3.0}, "replay.afterSeq"),
        ({"type": "workflow-watch", "runId": "r", "offset": "3"}, "workflow-watch.offset"),
        ([1, 2], "frame"),
    ],
)
async def test_malformed_frame_gets_an_error_frame_and_the_socket_stays_open(
    scripted_chat, token, frame, field
):
    comm = await _open(token)
    await comm.send_json_to(frame)
    error = await comm.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "invalid_frame"
    assert any(key.startswith(field) for key in error["details"]), error
    scripted_chat.script(ChatReply(text="Still here."))
    await comm.send_json_to({"type": "message", "threadId": "t-after-error", "text": "hi"})
    await comm.receive_json_from(timeout=5)
    assert text_of(await frames_until_end(comm)) == "Still here."
    await comm.disconnect()


async def test_non_json_frame_gets_an_error_frame(scripted_chat, token):
    comm = await _open(token)
    await comm.send_to(text_data="{not json")
    error = await comm.receive_json_from(timeout=5)
    assert error["code"] == "invalid_frame"
    assert "JSON" in error["message"]
    await comm.disconnect()


@pytest.mark.parametrize("depth", [150, 5000])
async def test_deeply_nested_frame_gets_an_error_frame_and_the_socket_stays_open(scripted_chat, token, depth):
    comm = await _open(token)
    nested = "[" * depth + "]" * depth
    await comm.send_to(text_data='{"type": "resume", "threadId": "t", "resumeData": ' + nested + "}")
    error = await comm.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    assert "nested" in error["details"]["frame"][0]
    await comm.send_json_to({"type": "subscribe", "threadId": "t-deep"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "subscribed"
    await comm.disconnect()


async def test_provider_failure_mid_stream_ends_with_an_error_chunk(scripted_chat, token):
    scripted_chat.script(ChatReply(text="one two three four five six", drop_after=3))
    comm = await _open(token)
    await comm.send_json_to({"type": "message", "threadId": "t-drop", "text": "hi"})
    await comm.receive_json_from(timeout=5)
    frames = await frames_until_end(comm, wait_s=10)
    assert chunks(frames)[-1]["type"] == "error"
    assert frames[-1]["status"] == "failed"
    role, _text, status = scripted_runtime.PERSISTED["t-drop"][-1]
    assert (role, status) == ("assistant", "failed")
    await comm.disconnect()


async def test_a_tool_bug_ends_the_stream_without_leaking_its_message(scripted_chat, token):
    scripted_chat.script(ChatReply(tool_calls=[ToolCall(name="explode", arguments={})]))
    comm = await _open(token)
    await comm.send_json_to({"type": "message", "threadId": "t-bug", "text": "boom"})
    await comm.receive_json_from(timeout=5)
    frames = await frames_until_end(comm)
    error = chunks(frames)[-1]
    assert error["type"] == "error"
    assert "sk-should-not-leak" not in error["errorText"]
    await comm.disconnect()


async def test_one_socket_runs_one_message_after_another(scripted_chat, token):
    scripted_chat.script(ChatReply(text="First answer."), ChatReply(text="Second answer."))
    comm = await _open(token)
    for thread, expected in (("t-seq", "First answer."), ("t-seq-2", "Second answer.")):
        await comm.send_json_to({"type": "message", "threadId": thread, "text": "hi"})
        started = await comm.receive_json_from(timeout=5)
        assert started["type"] == "run-started"
        frames = await frames_until_end(comm)
        assert text_of(frames) == expected
        assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))  # each frame once
    await comm.disconnect()


async def test_another_members_abort_frame_does_not_stop_the_run(scripted_chat, token, tenant):
    from tests.factories import UserFactory

    intruder = await sync_to_async(lambda: token_for(UserFactory(tenant=tenant)))()
    scripted_chat.script(ChatReply(text=" ".join(f"w{i}" for i in range(40)), chunk_delay_s=0.01))
    owner = await _open(token)
    other = await _open(intruder)
    await owner.send_json_to({"type": "message", "threadId": "t-owned", "text": "long please"})
    run_id = (await owner.receive_json_from(timeout=5))["runId"]
    while (await owner.receive_json_from(timeout=5)).get("chunk", {}).get("type") != "text-delta":
        pass
    await other.send_json_to({"type": "abort", "threadId": "t-owned", "runId": run_id})
    frames = await frames_until_end(owner)
    assert frames[-1]["status"] == "completed"
    assert chunks(frames)[-1]["type"] == "finish"
    await owner.disconnect()
    await other.disconnect()
