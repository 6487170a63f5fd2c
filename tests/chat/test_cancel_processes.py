"""Cancelling a run that is executing in another process: a real daphne streams it from the
scripted model (slowly); the cancel comes from this process's REST call, or from a WebSocket
`abort` on a second daphne. The run stops between two chunks of its stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets
from asgiref.sync import sync_to_async

from agents.models import Run
from observability.models import Span
from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORDS = [f"w{i}" for i in range(200)]


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


def _slow_answer_then_a_tool() -> ChatReply:
    # 200 text chunks 50 ms apart, then a tool call in the same answer: a cancel during the
    # text must stop the stream there, and the tool must never start.
    return ChatReply(
        text=" ".join(WORDS),
        chunks=[f"{w} " for w in WORDS],
        tool_calls=[ToolCall(id="t1", name="chat_check_availability", arguments={"machine": "m1"})],
        chunk_delay_s=0.05,
    )


async def _chunks(response: httpx.Response) -> AsyncIterator[dict[str, Any] | None]:
    async for line in response.aiter_lines():
        if line == "data: [DONE]":
            yield None
        elif line.startswith("data: "):
            yield json.loads(line[6:])


def _chat_stream(client: httpx.AsyncClient, daphne_url: str, token: str, thread: str) -> Any:
    body = {"id": thread, "messages": [{"role": "user", "parts": [{"type": "text", "text": "go"}]}]}
    return client.stream(
        "POST", f"{daphne_url}/api/agents/demo/chat", json=body, headers={"authorization": f"Token {token}"}
    )


async def _disconnected(openai_server: Any) -> bool:
    for _ in range(100):
        if openai_server.disconnects:
            return True
        await asyncio.sleep(0.02)
    return False


async def _stored(run_id: str) -> tuple[Run, list[str]]:
    run = await Run.objects.aget(id=run_id)
    assert run.trace_id is not None
    spans = [s.name async for s in Span.objects.filter(trace_id=run.trace_id)]
    return run, spans


async def test_rest_cancel_stops_a_run_streaming_in_another_process(
    demo_agent, openai_server, daphne_url, token, api_client
):
    openai_server.script(_slow_answer_then_a_tool())
    seen: list[dict[str, Any]] = []
    async with (
        httpx.AsyncClient(timeout=30) as client,
        _chat_stream(client, daphne_url, token, "c-rest") as response,
    ):
        chunks = _chunks(response)
        run_id = None
        async for chunk in chunks:
            assert chunk is not None
            seen.append(chunk)
            if chunk["type"] == "start":
                run_id = chunk["messageMetadata"]["runId"]
            if chunk["type"] == "text-delta":
                break
        assert run_id is not None
        # The cancel is taken by this process (the test's), not by daphne that runs the stream.
        cancelled = await sync_to_async(api_client.post)(f"/api/runs/{run_id}/cancel")
        assert cancelled.status_code == 200, cancelled.json()
        assert cancelled.json()["status"] == "cancelled"
        ended = False
        async with asyncio.timeout(8):  # far less than the 10 s the whole answer would take
            async for chunk in chunks:
                if chunk is None:
                    ended = True
                    break
                seen.append(chunk)
    assert ended
    types = [c["type"] for c in seen]
    assert seen[-1] == {"type": "abort", "reason": "The run was cancelled."}
    assert "finish" not in types
    assert "error" not in types
    assert not {"tool-input-start", "tool-input-available", "tool-output-available"} & set(types)
    deltas = [c["delta"] for c in seen if c["type"] == "text-delta"]
    assert 0 < len(deltas) < len(WORDS)
    assert await _disconnected(openai_server)  # the provider's stream was closed

    run, spans = await _stored(run_id)
    assert run.status == "cancelled"
    assert run.error["code"] == "run_cancelled"
    assert "tool.call" not in spans  # no tool started after the cancel
    assert len(openai_server.chat_requests) == 1  # and no further model call
    again = await sync_to_async(api_client.post)(f"/api/runs/{run_id}/cancel")
    assert again.status_code == 409


async def test_a_socket_abort_on_another_process_cancels_the_run_where_it_runs(
    demo_agent, openai_server, daphne_url, second_daphne_url, token
):
    openai_server.script(_slow_answer_then_a_tool())
    url = second_daphne_url.replace("http://", "ws://") + "/ws/agents/demo/"
    async with (
        websockets.connect(url, additional_headers={"Authorization": f"Token {token}"}) as ws,
        httpx.AsyncClient(timeout=30) as client,
    ):
        await ws.send(json.dumps({"type": "subscribe", "threadId": "c-ws"}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        async with _chat_stream(client, daphne_url, token, "c-ws") as response:
            chunks = _chunks(response)
            run_id = None
            async for chunk in chunks:
                assert chunk is not None
                if chunk["type"] == "start":
                    run_id = chunk["messageMetadata"]["runId"]
                if chunk["type"] == "text-delta":
                    break
            # The run streams in the first daphne; the abort reaches the second one.
            await ws.send(json.dumps({"type": "abort", "threadId": "c-ws", "runId": run_id}))
            tail: list[dict[str, Any]] = []
            async with asyncio.timeout(8):
                async for chunk in chunks:
                    if chunk is None:
                        break
                    tail.append(chunk)
            # The second process's socket follows the thread: it sees the run end, cancelled.
            async with asyncio.timeout(8):
                while True:
                    frame = json.loads(await ws.recv())
                    if frame["type"] == "run-end" and frame["runId"] == run_id:
                        break
    assert tail[-1] == {"type": "abort", "reason": "The run was cancelled."}
    assert frame["status"] == "cancelled"
    assert not any(c["type"].startswith("tool-") for c in tail)
    assert await _disconnected(openai_server)
    run, spans = await _stored(run_id)
    assert run.status == "cancelled"
    assert "tool.call" not in spans
