"""The chat edges over a real daphne socket: WebSocket frames, close codes, SSE."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async

from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


def _ws(daphne_url: str, agent: str, token: str | None) -> Any:
    """A program client over a real socket: the token in the Authorization header, no Origin."""
    url = daphne_url.replace("http://", "ws://") + f"/ws/agents/{agent}/"
    return websockets.connect(url, additional_headers={"Authorization": f"Token {token}"} if token else None)


async def _until_end(ws: Any) -> list[dict[str, Any]]:
    frames = []
    async with asyncio.timeout(30):  # the first run of a fresh server loads its models
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "heartbeat":
                continue
            frames.append(frame)
            if frame["type"] == "run-end":
                return frames


async def _until_closed(ws: Any) -> list[dict[str, Any]]:
    frames = []
    try:
        async with asyncio.timeout(30):
            while True:
                frames.append(json.loads(await ws.recv()))
    except websockets.ConnectionClosed:
        return frames


async def test_streams_text_and_tools_over_a_real_socket(demo_agent, openai_server, daphne_url, token):
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_check_availability", arguments={"machine": "m3"})]),
        ChatReply(text="m3 is available for you."),
    )
    async with _ws(daphne_url, "demo", token) as ws:
        await ws.send(json.dumps({"type": "message", "threadId": "d-1", "text": "m3?"}))
        assert json.loads(await ws.recv())["type"] == "run-started"
        frames = await _until_end(ws)
    chunks = [f["chunk"] for f in frames if f["type"] == "chunk"]
    types = [c["type"] for c in chunks]
    assert (
        types.index("tool-input-available") < types.index("tool-output-available") < types.index("text-start")
    )
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "m3 is available for you."
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))


async def test_abort_over_a_real_socket_closes_the_provider_stream(
    demo_agent, openai_server, daphne_url, token
):
    openai_server.script(ChatReply(text=" ".join(f"x{i}" for i in range(300)), chunk_delay_s=0.02))
    async with _ws(daphne_url, "demo", token) as ws:
        await ws.send(json.dumps({"type": "message", "threadId": "d-abort", "text": "long"}))
        run_id = json.loads(await ws.recv())["runId"]
        while json.loads(await ws.recv()).get("chunk", {}).get("type") != "text-delta":
            pass
        await ws.send(json.dumps({"type": "abort", "threadId": "d-abort", "runId": run_id}))
        frames = await _until_end(ws)
    assert frames[-1]["status"] == "aborted"
    for _ in range(100):
        if openai_server.disconnects:
            break
        await asyncio.sleep(0.02)
    assert openai_server.disconnects >= 1


@pytest.mark.parametrize(("agent", "use_token", "code"), [("demo", False, 4401), ("ghost", True, 4404)])
async def test_close_codes_over_a_real_socket(
    demo_agent, openai_server, daphne_url, token, agent, use_token, code
):
    async with _ws(daphne_url, agent, token if use_token else None) as ws:
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == code
    assert ws.close_reason == ("Authentication required." if code == 4401 else "No agent 'ghost'.")


async def test_sse_route_over_a_real_socket(demo_agent, openai_server, daphne_url, token):
    openai_server.script(ChatReply(text="Served by daphne."))
    body = {"id": "d-sse", "messages": [{"role": "user", "parts": [{"type": "text", "text": "hi"}]}]}
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "POST",
            f"{daphne_url}/api/agents/demo/chat",
            json=body,
            headers={"authorization": f"Token {token}"},
        ) as response,
    ):
        assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
        lines = [line async for line in response.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "Served by daphne."


async def test_an_idle_socket_stays_open_on_the_redis_layer(demo_agent, openai_server, daphne_url, token):
    # daphne runs on the Redis channel layer (tests/chat/daphne_settings.py). Its blocking read
    # lasts 5 s; idling 25 s spans five of them, each of which used to close the socket (1011).
    async with _ws(daphne_url, "demo", token) as ws:
        await ws.send(json.dumps({"type": "subscribe", "threadId": "d-idle"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        loop = asyncio.get_running_loop()
        idle_until, beats = loop.time() + 25, 0
        while (left := idle_until - loop.time()) > 0:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), left))
            except TimeoutError:
                break
            assert frame == {"type": "heartbeat", "intervalS": 15.0}, frame
            beats += 1
        assert beats >= 1  # every 15 s, so that proxies with a 60 s idle limit keep the socket
        openai_server.script(ChatReply(text="Still here after idling."))
        await ws.send(json.dumps({"type": "message", "threadId": "d-idle", "text": "still there?"}))
        assert json.loads(await ws.recv())["type"] == "run-started"
        frames = await _until_end(ws)
    assert "".join(f["chunk"]["delta"] for f in frames if f.get("chunk", {}).get("type") == "text-delta") == (
        "Still here after idling."
    )


@pytest.mark.parametrize(("size", "error_frame"), [(3 * 512 * 1024, True), (5 * 1024 * 1024, False)])
async def test_a_frame_over_the_limit_is_closed_with_1009_and_a_reason(
    demo_agent, openai_server, daphne_url, token, size, error_frame
):
    # Over the chat's 1 MiB limit: an error frame, then 1009. Over the server's 4 MiB transport
    # cap (the frame is never read): 1009 and a reason all the same, never a dropped connection.
    frame = json.dumps({"type": "message", "threadId": "d-big", "text": "x" * size})
    async with _ws(daphne_url, "demo", token) as ws:
        await ws.send(frame)
        received = await _until_closed(ws)
    errors = [f for f in received if f["type"] == "error"]
    if error_frame:
        assert [e["code"] for e in errors] == ["frame_too_large"]
    assert ws.close_code == 1009
    assert ws.close_reason
