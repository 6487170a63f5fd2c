"""The `openai` SDK, behind a small interface: one chat call, sync or async, streamed or not.

Responses are read as raw JSON (no pydantic object per response or per
streamed chunk), which keeps the platform's own cost per call and per token
small. SDK retries are off: `agents.providers.calls` retries and falls back
so every attempt is traced.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx2
import openai
from django.conf import settings

from agents.providers.config import ModelRef


class StreamInterrupted(Exception):
    """The provider's stream broke off or sent something unreadable after it began."""


RETRYABLE = (
    openai.RateLimitError,
    openai.InternalServerError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    StreamInterrupted,
)
ProviderError = (openai.APIError, StreamInterrupted)


@dataclass(slots=True)
class ToolCallRequest:
    id: str
    name: str
    arguments: str = ""


@dataclass(slots=True)
class ModelResponse:
    text: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""


def status_of(error: BaseException) -> int | None:
    return getattr(error, "status_code", None)


_sync_clients: dict[tuple[str, str], openai.OpenAI] = {}
_lock = threading.Lock()


def sync_client(ref: ModelRef) -> openai.OpenAI:
    key = (ref.base_url, ref.api_key())
    client = _sync_clients.get(key)
    if client is None:
        with _lock:
            client = _sync_clients.setdefault(
                key,
                openai.OpenAI(
                    api_key=key[1],
                    base_url=ref.base_url,
                    max_retries=0,
                    timeout=settings.MODEL_REQUEST_TIMEOUT_S,
                ),
            )
    return client


try:
    import aiohttp  # noqa: F401 - the `openai[aiohttp]` extra
except ImportError:  # pragma: no cover - a requirement; httpx is the fallback
    _AIOHTTP = False
else:
    _AIOHTTP = True


@dataclass(slots=True)
class _LoopClient:
    client: openai.AsyncOpenAI
    loop: asyncio.AbstractEventLoop
    # Held open; its `finally` closes the client: asyncio closes the async generators still
    # open when a loop shuts down (`asyncio.run`, `async_to_sync`), while the loop can run them.
    closer: AsyncGenerator[None, None] | None = None


_async_clients: dict[tuple[int, str, str], _LoopClient] = {}


def async_client(ref: ModelRef) -> openai.AsyncOpenAI:
    """One client per event loop: the HTTP connection pool belongs to the loop that made it.

    Its transport is aiohttp (the SDK's own `DefaultAioHttpClient`, the `openai[aiohttp]`
    extra) where installed: several times less CPU per request than httpx under
    concurrency, with the same API, errors and timeouts. The client is closed when its
    loop shuts down, so no connection outlives its loop.
    """
    loop = asyncio.get_running_loop()
    key = (id(loop), ref.base_url, ref.api_key())
    entry = _async_clients.get(key)
    if entry is not None and entry.loop is loop:
        return entry.client
    with _lock:
        if len(_async_clients) > 64:  # loops come and go: forget those that ended
            for stale in [k for k, e in _async_clients.items() if e.loop.is_closed()]:
                del _async_clients[stale]
        entry = _async_clients.get(key)
        if entry is None or entry.loop is not loop:
            entry = _LoopClient(
                client=openai.AsyncOpenAI(
                    api_key=key[2],
                    base_url=ref.base_url,
                    max_retries=0,
                    timeout=settings.MODEL_REQUEST_TIMEOUT_S,
                    http_client=openai.DefaultAioHttpClient(timeout=settings.MODEL_REQUEST_TIMEOUT_S)
                    if _AIOHTTP
                    else None,
                ),
                loop=loop,
            )
            entry.closer = _closer(key, entry)
            _async_clients[key] = entry
    return entry.client


def _closer(key: tuple[int, str, str], entry: _LoopClient) -> AsyncGenerator[None, None]:
    async def closing() -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with _lock:
                if _async_clients.get(key) is entry:
                    del _async_clients[key]
            with contextlib.suppress(Exception):
                await entry.client.close()

    generator = closing()
    step = generator.__anext__()  # the loop's first-iteration hook registers it for shutdown
    with contextlib.suppress(StopIteration):
        step.send(None)  # run it to its `yield`, so that closing it runs the `finally`
    return generator


def _parse_completion(data: dict[str, Any]) -> ModelResponse:
    choice = (data.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    usage = data.get("usage") or {}
    calls = [
        ToolCallRequest(
            id=tc.get("id") or f"call_{i}",
            name=(tc.get("function") or {}).get("name", ""),
            arguments=(tc.get("function") or {}).get("arguments") or "",
        )
        for i, tc in enumerate(message.get("tool_calls") or [])
    ]
    return ModelResponse(
        text=message.get("content") or "",
        reasoning=message.get("reasoning_content") or message.get("reasoning") or "",
        tool_calls=calls,
        finish_reason=choice.get("finish_reason") or "stop",
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        model=data.get("model") or "",
    )


# Requests go through the SDK's generic `post` (its documented way to call any
# route): the client's base URL, auth, headers, timeout and error classes all
# apply, but the SDK's per-request parameter transform (about 0.15 ms per
# prompt message) does not, because the runtime builds plain JSON-ready dicts.
_CHAT = "/chat/completions"


def complete_sync(ref: ModelRef, request: dict[str, Any]) -> ModelResponse:
    body = {"model": ref.name, **request}
    response = sync_client(ref).post(_CHAT, body=body, cast_to=httpx2.Response)
    return _parse_completion(json.loads(response.content))


async def complete_async(ref: ModelRef, request: dict[str, Any]) -> ModelResponse:
    body = {"model": ref.name, **request}
    response = await async_client(ref).post(_CHAT, body=body, cast_to=httpx2.Response)
    return _parse_completion(json.loads(response.content))


# Streamed deltas: ("text", str) | ("reasoning", str) | ("tool-start", ToolCallRequest)
# | ("tool-delta", (call_id, str)) | ("done", ModelResponse)
StreamDelta = tuple[str, Any]


async def stream_async(ref: ModelRef, request: dict[str, Any]) -> AsyncGenerator[list[StreamDelta], None]:
    """Stream one completion as batches of deltas, one batch per network read.

    The SSE lines are split and parsed here (plain `json.loads`, no object per
    chunk), which keeps the cost per token small. The last batch is
    `[("done", ModelResponse)]`. Closing the iterator closes the HTTP stream.
    """
    assembler = _StreamAssembler()
    body = {"model": ref.name, "stream": True, "stream_options": {"include_usage": True}, **request}
    # cast_to=httpx2.Response with stream=True: the SDK hands back the open response unread.
    response: httpx2.Response = await async_client(ref).post(  # type: ignore[assignment]
        _CHAT, body=body, cast_to=httpx2.Response, stream=True, stream_cls=openai.AsyncStream[Any]
    )
    reads = response.aiter_bytes()
    try:
        pending = b""
        first = True
        done = False
        async for data in reads:
            lines = (pending + data).split(b"\n")
            pending = lines.pop()
            if first:  # the first read may hold many chunks: hand on the first delta before parsing the rest
                head, lines = _through_first_delta(assembler, lines)
                if head:
                    first = False
                    yield head
            batch, done = assembler.feed_lines(lines)
            if batch:
                yield batch
            if done:
                break
    except (httpx2.HTTPError, json.JSONDecodeError) as error:
        raise StreamInterrupted(f"{type(error).__name__}: {error}") from error
    else:
        if done:
            await _read_to_end(reads)
    finally:
        await response.aclose()
    yield [("done", assembler.finish())]


# How long the end of a body may take to arrive after `[DONE]` (normally it comes with it).
_END_OF_BODY_S = 0.05


async def _read_to_end(reads: AsyncIterator[bytes]) -> None:
    """Read what is left of a body after `[DONE]`, as the SDK's own stream does: a response
    closed unread drops its connection, and the next call would open a new one. A server
    that keeps the body open is not waited for: its connection is closed instead."""
    with contextlib.suppress(TimeoutError, httpx2.HTTPError):
        async with asyncio.timeout(_END_OF_BODY_S):
            async for _ in reads:
                pass


def _through_first_delta(
    assembler: _StreamAssembler, lines: list[bytes]
) -> tuple[list[StreamDelta], list[bytes]]:
    """Parse lines up to the first one that yields a delta: (its deltas, the lines left)."""
    for index, line in enumerate(lines):
        if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
            deltas, _ = assembler.feed_lines([line])
            if deltas:
                return deltas, lines[index + 1 :]
        elif line.startswith(b"data:"):
            return [], lines[index:]
    return [], []


class _StreamAssembler:
    """Turns parsed stream chunks into deltas and assembles the whole response."""

    def __init__(self) -> None:
        self.response = ModelResponse()
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, ToolCallRequest] = {}
        self.args: dict[int, list[str]] = {}

    def feed_lines(self, lines: list[bytes]) -> tuple[list[StreamDelta], bool]:
        """Parse complete SSE lines; (deltas, whether `[DONE]` was seen)."""
        out: list[StreamDelta] = []
        for line in lines:
            if not line.startswith(b"data:"):
                continue
            payload = line[5:].strip()
            if payload == b"[DONE]":
                return out, True
            chunk = json.loads(payload)
            if "error" in chunk and not chunk.get("choices"):
                raise StreamInterrupted(f"provider error in stream: {chunk['error']}")
            out.extend(self.feed(chunk))
        return out, False

    def feed(self, chunk: dict[str, Any]) -> list[StreamDelta]:
        usage = chunk.get("usage")
        if usage:
            self.response.prompt_tokens = usage.get("prompt_tokens") or 0
            self.response.completion_tokens = usage.get("completion_tokens") or 0
        if chunk.get("model"):
            self.response.model = chunk["model"]
        out: list[StreamDelta] = []
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                self.text.append(content)
                out.append(("text", content))
            thought = delta.get("reasoning_content") or delta.get("reasoning")
            if thought:
                self.reasoning.append(thought)
                out.append(("reasoning", thought))
            for tool_delta in delta.get("tool_calls") or ():
                out.extend(self._tool(tool_delta))
            if choice.get("finish_reason"):
                self.response.finish_reason = choice["finish_reason"]
        return out

    def _tool(self, tool_delta: dict[str, Any]) -> list[StreamDelta]:
        index = tool_delta.get("index", 0)
        function = tool_delta.get("function") or {}
        out: list[StreamDelta] = []
        call = self.calls.get(index)
        if call is None:
            call = ToolCallRequest(
                id=tool_delta.get("id") or f"call_{index}", name=function.get("name") or ""
            )
            self.calls[index] = call
            self.args[index] = []
            out.append(("tool-start", call))
        piece = function.get("arguments")
        if piece:
            self.args[index].append(piece)
            out.append(("tool-delta", (call.id, piece)))
        return out

    def finish(self) -> ModelResponse:
        self.response.text = "".join(self.text)
        self.response.reasoning = "".join(self.reasoning)
        for index, call in sorted(self.calls.items()):
            call.arguments = "".join(self.args[index])
            self.response.tool_calls.append(call)
        return self.response


def list_models_sync(ref: ModelRef) -> list[str]:
    raw = sync_client(ref).with_options(timeout=5.0).models.with_raw_response.list()
    data = json.loads(raw.http_response.content)
    return sorted(str(m.get("id")) for m in data.get("data", []) if m.get("id"))
