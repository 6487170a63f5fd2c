"""The chat socket below the frames: heartbeat, the frame limit, unknown runs, close reasons."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.chat.helpers import connect, frames_until_end, token_for
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


async def _open(token: str) -> Any:
    comm = await connect("demo", token)
    connected, _ = await comm.connect(timeout=30)
    assert connected
    return comm


async def test_a_heartbeat_frame_comes_at_the_configured_interval(scripted_chat, token, settings):
    settings.CHAT_WS_HEARTBEAT_S = 0.05
    comm = await _open(token)
    beats = [await comm.receive_json_from(timeout=5) for _ in range(2)]
    assert beats == [{"type": "heartbeat", "intervalS": 0.05}] * 2
    await comm.disconnect()


async def test_a_frame_over_the_limit_gets_an_error_frame_then_a_1009_close(scripted_chat, token, settings):
    settings.CHAT_WS_MAX_FRAME_BYTES = 1024 * 1024
    comm = await _open(token)
    await comm.send_to(text_data='{"type": "message", "threadId": "t", "text": "' + "é" * 600_000 + '"}')
    error = await comm.receive_json_from(timeout=5)
    assert error["type"] == "error"
    assert error["code"] == "frame_too_large"
    assert set(error) == {"type", "code", "message", "details"}
    assert error["details"] == {"frame": ["Larger than 1048576 bytes."]}
    close = await comm.receive_output(timeout=5)
    assert close["type"] == "websocket.close"
    assert close["code"] == 1009
    assert "1048576" in close["reason"]


async def test_a_frame_at_the_limit_is_read(scripted_chat, token, settings):
    settings.CHAT_WS_MAX_FRAME_BYTES = 200
    comm = await _open(token)
    scripted_chat.script(ChatReply(text="Read."))
    frame = '{"type": "message", "threadId": "t-limit", "text": "x"}'
    await comm.send_to(text_data=frame + " " * (200 - len(frame)))
    assert (await comm.receive_json_from(timeout=5))["type"] == "run-started"
    await frames_until_end(comm)
    await comm.disconnect()


@pytest.mark.parametrize("data", [{"bytes": b"\x00\x01"}, {"text": ""}])
async def test_binary_and_empty_frames_get_an_error_frame_and_the_socket_stays_open(
    scripted_chat, token, data
):
    comm = await _open(token)
    await comm.send_input({"type": "websocket.receive", **data})
    error = await comm.receive_json_from(timeout=5)
    assert (error["type"], error["code"]) == ("error", "invalid_frame")
    await comm.send_json_to({"type": "subscribe", "threadId": "t-still"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "subscribed"
    await comm.disconnect()


@pytest.mark.parametrize("kind", ["abort", "replay"])
async def test_an_unknown_run_gets_a_not_found_error_frame(scripted_chat, token, kind):
    comm = await _open(token)
    frame = {"type": kind, "threadId": "t-unknown", "runId": "0" * 32}
    if kind == "replay":
        frame["afterSeq"] = 0
    await comm.send_json_to(frame)
    error = await comm.receive_json_from(timeout=5)
    assert error == {
        "type": "error",
        "code": "not_found",
        "message": f"No run '{'0' * 32}'.",
        "details": {"runId": ["Not found."]},
    }
    await comm.disconnect()


async def test_another_users_run_is_not_found_for_replay_and_abort(scripted_chat, token, tenant):
    from tests.factories import UserFactory

    other = await sync_to_async(lambda: token_for(UserFactory(tenant=tenant)))()
    scripted_chat.script(ChatReply(text="Mine only."))
    mine, theirs = await _open(token), await _open(other)
    await mine.send_json_to({"type": "message", "threadId": "t-own", "text": "hi"})
    run_id = (await mine.receive_json_from(timeout=5))["runId"]
    await frames_until_end(mine)
    for frame in (
        {"type": "replay", "threadId": "t-own", "runId": run_id, "afterSeq": 0},
        {"type": "abort", "threadId": "t-own", "runId": run_id},
    ):
        await theirs.send_json_to(frame)
        assert (await theirs.receive_json_from(timeout=5))["code"] == "not_found"
    await mine.disconnect()
    await theirs.disconnect()


async def test_aborting_a_run_that_has_ended_says_so(scripted_chat, token):
    scripted_chat.script(ChatReply(text="Done already."))
    comm = await _open(token)
    await comm.send_json_to({"type": "message", "threadId": "t-ended", "text": "hi"})
    run_id = (await comm.receive_json_from(timeout=5))["runId"]
    await frames_until_end(comm)
    await comm.send_json_to({"type": "abort", "threadId": "t-ended", "runId": run_id})
    error = await comm.receive_json_from(timeout=5)
    assert (error["code"], error["details"]) == ("conflict", {"runId": ["The run has ended."]})
    await comm.disconnect()


async def test_a_failing_message_bus_closes_with_1011_and_a_reason(scripted_chat, token, settings):
    from config.settings.services import redis_channel_layer

    settings.CHANNEL_LAYERS = {"default": redis_channel_layer(url="redis://127.0.0.1:1/0", prefix="nowhere")}
    comm = await connect("demo", token)
    await comm.send_input({"type": "websocket.connect"})
    while (message := await comm.receive_output(timeout=10))["type"] != "websocket.close":
        pass
    assert message["code"] == 1011
    assert "message bus" in message["reason"]
