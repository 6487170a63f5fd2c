"""The floor under the SSE route in `bench/streaming.py`: Django itself.

A bare async view, through the product's middleware, that streams the `openai` SDK's
answer as SSE lines: no authentication, no database, no runtime. Its first text minus
the direct SDK's is what Django's request cycle costs before any of the platform's
work; the bench prints it beside the chat route. The URL conf puts the view in front
of the product's (`ROOT_URLCONF = "bench.sse_floor"`); `client` is set by the bench.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

client: Any = None  # an openai.AsyncOpenAI on the scripted server


@csrf_exempt
async def bare_sse(request: HttpRequest) -> StreamingHttpResponse:
    async def body() -> AsyncIterator[bytes]:
        stream = await client.chat.completions.create(
            model="gpt-test", messages=[{"role": "user", "content": "go"}], stream=True
        )
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                part = {"type": "text-delta", "delta": chunk.choices[0].delta.content}
                yield b"data: " + json.dumps(part).encode() + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingHttpResponse(body(), content_type="text/event-stream")


urlpatterns = [path("bench/bare-sse", bare_sse), path("", include("config.urls"))]
