"""Server-sent events in the AI SDK's UI message stream protocol (v1).

Each chunk is one `data:` line holding JSON; the stream ends with
`data: [DONE]`. The response carries `x-vercel-ai-ui-message-stream: v1` so the
SDK's `DefaultChatTransport` (and `useChat()`) reads it unchanged. After
`CHAT_SSE_HEARTBEAT_S` seconds without a chunk a `: heartbeat` comment goes out (the
SDK's event-stream parser skips comments), so a proxy that closes idle responses keeps a
long run's stream open.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.http import StreamingHttpResponse

from chat.runs import Run, run_continue, run_start, thread_group
from chat.runs.replay import IDLE, replay_follow
from chat.runtime import ChatRequest

DONE = b"data: [DONE]\n\n"
HEARTBEAT = b": heartbeat\n\n"
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    "x-vercel-ai-ui-message-stream": "v1",
}


def sse_encode(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def heartbeat_s() -> float:
    return float(getattr(settings, "CHAT_SSE_HEARTBEAT_S", 15.0))


def _group(request: ChatRequest) -> str:
    user_id = request.context.user_id if request.context.user_id is not None else "anonymous"
    return thread_group(user_id=user_id, thread_id=request.thread_id)


async def sse_run_body(request: ChatRequest) -> AsyncIterator[bytes]:
    """Start the run and relay its chunks; the run outlives a client that goes away."""
    async for chunk in _relay(run_start(request=request, group=_group(request))):
        yield chunk


async def sse_continue_body(request: ChatRequest) -> AsyncIterator[bytes]:
    """Continue a suspended run after a decision and relay its chunks, like a new turn's."""
    async for chunk in _relay(await run_continue(request=request, group=_group(request))):
        yield chunk


async def _relay(run: Run) -> AsyncIterator[bytes]:
    async for frame in run.subscribe(idle_s=heartbeat_s()):
        if frame["type"] == "chunk":
            yield sse_encode(frame["chunk"])
        elif frame is IDLE:
            yield HEARTBEAT
    yield DONE


async def sse_resume_body(*, user_id: int, run_id: str) -> AsyncIterator[bytes]:
    """A run in flight from its first chunk (the replay buffer), then live to its end.

    The AI SDK's `DefaultChatTransport` treats a resumed stream as a replay
    (`resumeStreamIsReplay`): it drops what it had of the answer at the replayed `start`.
    """
    async for frame in replay_follow(user_id=user_id, run_id=run_id, idle_s=heartbeat_s()):
        if frame["type"] == "chunk":
            yield sse_encode(frame["chunk"])
        elif frame is IDLE:
            yield HEARTBEAT
    yield DONE


def sse_response(
    body: AsyncIterator[bytes], *, run_headers: dict[str, str] | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    for name, value in {**HEADERS, **(run_headers or {})}.items():
        response[name] = value
    return response
