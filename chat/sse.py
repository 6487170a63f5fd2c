"""Server-sent events in the AI SDK's UI message stream protocol (v1).

Each chunk is one `data:` line holding JSON; the stream ends with
`data: [DONE]`. The response carries `x-vercel-ai-ui-message-stream: v1` so the
SDK's `DefaultChatTransport` (and `useChat()`) reads it unchanged.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from django.http import StreamingHttpResponse

from chat.runs import run_start, thread_group
from chat.runtime import ChatRequest

DONE = b"data: [DONE]\n\n"
HEADERS = {
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",
    "x-vercel-ai-ui-message-stream": "v1",
}


def sse_encode(chunk: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


async def sse_run_body(request: ChatRequest) -> AsyncIterator[bytes]:
    """Start the run and relay its chunks; the run outlives a client that goes away."""
    user_id = request.context.user_id if request.context.user_id is not None else "anonymous"
    run = run_start(request=request, group=thread_group(user_id=user_id, thread_id=request.thread_id))
    async for frame in run.subscribe():
        if frame["type"] == "chunk":
            yield sse_encode(frame["chunk"])
    yield DONE


def sse_response(
    body: AsyncIterator[bytes], *, run_headers: dict[str, str] | None = None
) -> StreamingHttpResponse:
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    for name, value in {**HEADERS, **(run_headers or {})}.items():
        response[name] = value
    return response
