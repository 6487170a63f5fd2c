"""A scripted OpenAI-compatible HTTP server on a real socket.

The real `openai` SDK talks to it over HTTP; nothing is patched. Each test
scripts the replies it expects (`server.script(...)`); a request with no script
left is answered 500 *and* recorded, and the pytest fixture fails the test on
teardown, so an unexpected model call never passes silently.

Routes: `POST /v1/chat/completions` (streaming or not, text, tool calls, usage),
`POST /v1/embeddings` (deterministic vectors), `GET /v1/models`.

Faults: `Fault(status=429|500|...)`, `Fault(kind="timeout")` (never answers
within the client's timeout), `Fault(kind="drop")` (closes the connection),
`ChatReply(..., drop_after=n)` (drops mid-stream), and tool calls with raw,
malformed argument JSON.

Also used by the benchmarks, with `server.always(reply)` to answer every
request the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, kw_only=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] | None = None
    raw_arguments: str | None = None  # sent verbatim: use for malformed JSON
    id: str | None = None

    def arguments_json(self) -> str:
        if self.raw_arguments is not None:
            return self.raw_arguments
        return json.dumps(self.arguments or {})


@dataclass(frozen=True, kw_only=True)
class ChatReply:
    """One chat completion. `chunks` overrides how streamed text is split."""

    text: str = ""
    tool_calls: tuple[ToolCall, ...] | list[ToolCall] = ()
    chunks: list[str] | None = None
    finish_reason: str | None = None
    reasoning: str | None = None
    model: str | None = None  # only requests for this model take this reply
    delay_s: float = 0.0  # before answering
    chunk_delay_s: float = 0.0  # between streamed chunks
    drop_after: int | None = None  # streamed: close the connection after this many chunks
    linger_s: float = 0.0  # streamed: keep the body open this long after `[DONE]`
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True, kw_only=True)
class Fault:
    kind: Literal["status", "timeout", "drop"] = "status"
    status: int = 500
    message: str = "scripted failure"
    model: str | None = None
    delay_s: float = 30.0  # for timeouts
    retry_after: float | None = None


@dataclass(frozen=True, kw_only=True)
class EmbeddingReply:
    vectors: list[list[float]] | None = None  # default: deterministic per input text
    fault: Fault | None = None


@dataclass(kw_only=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", [])) if isinstance(self.body, dict) else []


Step = ChatReply | Fault


@dataclass
class _State:
    chat: deque[Step] = field(default_factory=deque)
    always: Step | None = None
    responder: Callable[[dict[str, Any]], Step | None] | None = None
    embeddings: deque[EmbeddingReply] = field(default_factory=deque)
    requests: list[RecordedRequest] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    disconnects: int = 0
    connections: int = 0  # accepted: a client that reuses its connection opens one
    models: list[str] = field(default_factory=lambda: ["gpt-test", "gpt-test-mini"])
    embedding_dimensions: int = 384


def deterministic_embedding(text: str, dimensions: int) -> list[float]:
    """A unit vector derived from the text's hash: equal texts, equal vectors."""
    seed = hashlib.sha256(text.encode()).digest()
    values = [((seed[i % len(seed)] + i * 31) % 251) / 125.0 - 1.0 for i in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


class ScriptedOpenAIServer:
    """Start with `start()`, stop with `stop()`; `base_url` ends in `/v1`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._state = _State()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- scripting ---------------------------------------------------------
    def script(self, *steps: Step) -> ScriptedOpenAIServer:
        with self._lock:
            self._state.chat.extend(steps)
        return self

    def always(self, step: Step | None) -> ScriptedOpenAIServer:
        """Answer every chat request with `step` once the script is used up (benchmarks)."""
        with self._lock:
            self._state.always = step
        return self

    def respond_with(self, responder: Callable[[dict[str, Any]], Step | None] | None) -> ScriptedOpenAIServer:
        """Answer requests the script does not cover by calling `responder(request_body)`."""
        with self._lock:
            self._state.responder = responder
        return self

    def script_embeddings(self, *replies: EmbeddingReply) -> ScriptedOpenAIServer:
        with self._lock:
            self._state.embeddings.extend(replies)
        return self

    def set_models(self, models: list[str]) -> None:
        self._state.models = list(models)

    def reset(self) -> None:
        with self._lock:
            models = self._state.models
            self._state = _State(models=models)

    @property
    def requests(self) -> list[RecordedRequest]:
        return list(self._state.requests)

    @property
    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self._state.requests if r.path.endswith("/chat/completions")]

    @property
    def unexpected(self) -> list[str]:
        return list(self._state.unexpected)

    @property
    def remaining(self) -> int:
        return len(self._state.chat)

    @property
    def disconnects(self) -> int:
        return self._state.disconnects

    @property
    def connections(self) -> int:
        return self._state.connections

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # -- lifecycle ---------------------------------------------------------
    def start(self) -> ScriptedOpenAIServer:
        self._thread = threading.Thread(target=self._run, name="scripted-openai", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("scripted OpenAI server did not start")
        return self

    def stop(self) -> None:
        loop = self._loop
        if loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        self._loop = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        self._server = loop.run_until_complete(asyncio.start_server(self._handle, self.host, self.port))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            self._server.close()
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.close()

    # -- HTTP --------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._state.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                request = RecordedRequest(method=method, path=path.split("?")[0], headers=headers, body=body)
                self._state.requests.append(request)
                keep_open = await self._route(request, writer)
                if not keep_open:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _send(
        self, writer: asyncio.StreamWriter, status: int, payload: Any, extra: dict[str, str] | None = None
    ) -> bool:
        data = json.dumps(payload).encode()
        head = [f"HTTP/1.1 {status} {'OK' if status < 400 else 'Error'}", "content-type: application/json"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        head += [f"content-length: {len(data)}", "connection: keep-alive", "", ""]
        writer.write("\r\n".join(head).encode() + data)
        await writer.drain()
        return True

    async def _route(self, request: RecordedRequest, writer: asyncio.StreamWriter) -> bool:
        if request.method == "POST" and request.path == "/_control/always":  # used by ServerProcess
            self._state.requests.pop()
            self.always(ChatReply(**request.body) if request.body else None)
            return await self._send(writer, 200, {"ok": True})
        if request.method == "GET" and request.path == "/_control/last-chat":  # used by ServerProcess
            self._state.requests.pop()
            chats = self.chat_requests
            return await self._send(writer, 200, chats[-1].body if chats else {})
        if request.method == "GET" and request.path.endswith("/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in self._state.models
            ]
            return await self._send(writer, 200, {"object": "list", "data": data})
        if request.method == "POST" and request.path.endswith("/embeddings"):
            return await self._embeddings(request, writer)
        if request.method == "POST" and request.path.endswith("/chat/completions"):
            return await self._chat(request, writer)
        self._state.unexpected.append(f"{request.method} {request.path}")
        return await self._send(
            writer, 404, {"error": {"message": "no such route", "type": "invalid_request"}}
        )

    def _next_step(self, body: dict[str, Any]) -> Step | None:
        model = body.get("model")
        with self._lock:
            for i, step in enumerate(self._state.chat):
                if step.model is None or step.model == model:
                    del self._state.chat[i]
                    return step
            responder = self._state.responder
            if responder is None:
                return self._state.always
        return responder(body)

    async def _fault(self, fault: Fault, writer: asyncio.StreamWriter) -> bool:
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay_s)
            return False
        if fault.kind == "drop":
            return False
        extra = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else None
        error = {"error": {"message": fault.message, "type": "scripted", "code": str(fault.status)}}
        return await self._send(writer, fault.status, error, extra)

    async def _chat(self, request: RecordedRequest, writer: asyncio.StreamWriter) -> bool:
        body = request.body if isinstance(request.body, dict) else {}
        model = body.get("model")
        step = self._next_step(body)
        if step is None:
            self._state.unexpected.append(f"chat completion for {model!r} with no scripted reply")
            return await self._send(
                writer, 500, {"error": {"message": "unexpected request", "type": "script"}}
            )
        if isinstance(step, Fault):
            return await self._fault(step, writer)
        if step.delay_s:
            await asyncio.sleep(step.delay_s)
        prompt_tokens = step.prompt_tokens
        if prompt_tokens is None:
            prompt_tokens = max(
                1, sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4
            )
        if body.get("stream"):
            return await self._stream(step, body, model, prompt_tokens, writer)
        return await self._send(writer, 200, _completion(step, model, prompt_tokens))

    async def _stream(
        self,
        step: ChatReply,
        body: dict[str, Any],
        model: str | None,
        prompt_tokens: int,
        writer: asyncio.StreamWriter,
    ) -> bool:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
            b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
        )
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        sent = 0
        try:
            for chunk in _stream_chunks(step, model, prompt_tokens, include_usage):
                if step.drop_after is not None and sent >= step.drop_after:
                    return False
                data = b"data: " + chunk + b"\n\n"
                writer.write(b"%x\r\n%s\r\n" % (len(data), data))
                sent += 1
                if step.chunk_delay_s:
                    await writer.drain()
                    await asyncio.sleep(step.chunk_delay_s)
            if step.linger_s:
                await writer.drain()
                with contextlib.suppress(TimeoutError):  # a client that closes ends the wait (and counts)
                    await asyncio.wait_for(writer.wait_closed(), step.linger_s)
            writer.write(b"0\r\n\r\n")  # the end of the chunked body: the connection stays usable
            await writer.drain()
            return True
        except ConnectionError:
            self._state.disconnects += 1
            return False
        finally:
            if writer.is_closing() or writer.transport.is_closing():
                self._state.disconnects += 1

    async def _embeddings(self, request: RecordedRequest, writer: asyncio.StreamWriter) -> bool:
        body = request.body if isinstance(request.body, dict) else {}
        inputs = body.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        reply = self._state.embeddings.popleft() if self._state.embeddings else EmbeddingReply()
        if reply.fault is not None:
            return await self._fault(reply.fault, writer)
        dims = int(body.get("dimensions") or self._state.embedding_dimensions)
        vectors = reply.vectors or [deterministic_embedding(str(t), dims) for t in inputs]
        data = [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(vectors)]
        usage = {"prompt_tokens": len(inputs), "total_tokens": len(inputs)}
        return await self._send(
            writer, 200, {"object": "list", "data": data, "model": body.get("model"), "usage": usage}
        )


def _split_text(text: str) -> list[str]:
    """Split into word-sized pieces that keep their leading space, like tokens."""
    pieces: list[str] = []
    current = ""
    for ch in text:
        if ch == " " and current.strip():
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def _usage(step: ChatReply, prompt_tokens: int) -> dict[str, int]:
    completion = step.completion_tokens
    if completion is None:
        completion = len(_split_text(step.text)) + sum(
            len(tc.arguments_json()) // 4 + 1 for tc in step.tool_calls
        )
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": prompt_tokens + completion,
    }


def _finish_reason(step: ChatReply) -> str:
    return step.finish_reason or ("tool_calls" if step.tool_calls else "stop")


def _completion(step: ChatReply, model: str | None, prompt_tokens: int) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
    if step.tool_calls:
        message["tool_calls"] = [
            {
                "id": tc.id or f"call_{i}_{uuid.uuid4().hex[:8]}",
                "type": "function",
                "function": {"name": tc.name, "arguments": tc.arguments_json()},
            }
            for i, tc in enumerate(step.tool_calls)
        ]
    if step.reasoning:
        message["reasoning_content"] = step.reasoning
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model or "scripted",
        "choices": [
            {"index": 0, "message": message, "finish_reason": _finish_reason(step), "logprobs": None}
        ],
        "usage": _usage(step, prompt_tokens),
    }


def _stream_chunks(
    step: ChatReply, model: str | None, prompt_tokens: int, include_usage: bool
) -> list[bytes]:
    cid = f"chatcmpl-{uuid.uuid4().hex[:12]}"
    created = int(time.time())
    envelope = json.dumps(
        {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model or "scripted"}
    )[:-1].encode()
    prefix = envelope + b',"choices":[{"index":0,"delta":'

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        return (
            prefix + json.dumps(delta).encode() + b',"finish_reason":' + json.dumps(finish).encode() + b"}]}"
        )

    out = [chunk({"role": "assistant", "content": ""})]
    if step.reasoning:
        out += [chunk({"reasoning_content": piece}) for piece in _split_text(step.reasoning)]
    for piece in step.chunks if step.chunks is not None else _split_text(step.text):
        out.append(chunk({"content": piece}))
    for index, tc in enumerate(step.tool_calls):
        call_id = tc.id or f"call_{index}_{uuid.uuid4().hex[:8]}"
        head = {
            "index": index,
            "id": call_id,
            "type": "function",
            "function": {"name": tc.name, "arguments": ""},
        }
        out.append(chunk({"tool_calls": [head]}))
        args = tc.arguments_json()
        for start in range(0, len(args), 16):
            out.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": args[start : start + 16]}}]})
            )
    out.append(chunk({}, _finish_reason(step)))
    if include_usage:
        usage = json.dumps(_usage(step, prompt_tokens))
        out.append(envelope + b',"choices":[],"usage":' + usage.encode() + b"}")
    out.append(b"[DONE]")
    return out


if __name__ == "__main__":  # `python -m tests.fakes.openai_server`: see tests/fakes/server_process.py
    from tests.fakes.server_process import main

    main()
