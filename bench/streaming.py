"""Streaming latency and fan-out, all in one run against the scripted model server.

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/streaming.py

Measures, for a 1000-token answer (medians over N rounds, each round sampling every path
in turn so all see the same machine state, each sample once the last one's background work
has ended; milliseconds):
  1. the `openai` SDK streaming directly from the scripted server (the baseline);
  2. the runtime's own `stream()` in-process (first text event, whole answer);
  3. the same run at a WebSocket client (Channels' WebsocketCommunicator: consumer, run
     fan-out over the channel layer, coalescing, replay buffer in Redis);
  4. the same run over the SSE route (Django's ASGI handler, in-process);
  5. Django's floor under it: a bare async view streaming the SDK through the product's
     middleware (`bench/sse_floor.py`: no authentication, no database, no runtime);
and then 200 concurrent WebSocket chats (50-token answers), counting errors and
lost messages (a run whose frames are not contiguous or whose text differs).
Uses the embedded PostgreSQL database of `config.settings.test` (migrated here)
and Redis at REDIS_URL. The channel layer is production's Redis layer
(`BENCH_LAYER=redis`, the default) or the in-memory one (`BENCH_LAYER=memory`).
`BENCH_SKIP_PATHS=1` runs the concurrent chats alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django

django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from channels.testing import WebsocketCommunicator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import AsyncClient  # noqa: E402
from openai import AsyncOpenAI  # noqa: E402

from bench import sse_floor  # noqa: E402
from tests.fakes.openai_server import ChatReply  # noqa: E402
from tests.fakes.server_process import ServerProcess  # noqa: E402

N = int(os.environ.get("BENCH_N", "30"))
LAYER = os.environ.get("BENCH_LAYER", "redis")
SKIP_PATHS = os.environ.get("BENCH_SKIP_PATHS") == "1"
CONCURRENT = int(os.environ.get("BENCH_CONCURRENT", "200"))
ANSWER = " ".join(f"tok{i}" for i in range(1000))
SHORT = " ".join(f"w{i}" for i in range(50))
KEY = "sk-bench-scripted"
BENCH_QUEUE = "bench-streaming"
# Threads of this run only: each chat is a new thread, so its prompt is the same one message
# the SDK baseline sends (threads reused across runs would carry earlier runs' history).
RUN = uuid.uuid4().hex[:8]


def _setup(server: ServerProcess) -> tuple[Any, str]:
    from rest_framework.authtoken.models import Token

    from agents.services import agent_save, tools_sync
    from core.tenancy import membership_set, tenant_get_or_create
    from tests.factories import UserFactory

    call_command("migrate", verbosity=0)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # Django's in-process client
    settings.ROOT_URLCONF = "bench.sse_floor"  # the product's routes and the bare floor view
    settings.CELERY_TASK_ALWAYS_EAGER = False  # as in production: background work off the request path
    settings.AGENT_CONFIG_CACHE = True  # as in production (the test settings read it every run)
    settings.RUN_RECORDS_WRITE_BEHIND = True
    if LAYER == "redis":  # as in production (the test settings use the in-memory layer)
        settings.CHANNEL_LAYERS = settings.REDIS_CHANNEL_LAYERS
    # As in production, embeddings are the Celery worker's job, not the streaming process's: they
    # are enqueued (to a queue of the bench's own, drained at the end) as bench/memory.py does.
    settings.EMBEDDER = "scripted/embed-bench"
    from config.celery import app
    from memory import dispatch

    app.conf.task_always_eager = False
    app.conf.task_default_queue = BENCH_QUEUE
    dispatch._last_check = (time.monotonic() + 10_000, True)  # a worker is assumed: enqueue
    os.environ["SCRIPTED_API_KEY"] = KEY
    settings.MODEL_PROVIDERS = {
        **settings.MODEL_PROVIDERS,
        "scripted": {"base_url": server.base_url, "api_key_env": "SCRIPTED_API_KEY"},
    }
    tools_sync()
    tenant = tenant_get_or_create(slug="bench", name="Bench")
    agent_save(
        slug="bench-stream",
        name="Bench",
        instructions="Answer.",
        model="scripted/gpt-test",
        max_steps=2,
        tools=[],
    )
    user: Any = UserFactory(tenant=tenant)
    membership_set(user=user, tenant=tenant)
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def _ms(samples: list[float]) -> float:
    """Median in ms, leaving out the first (warm-up) sample when there are several."""
    kept = samples[1:] if len(samples) > 2 else samples
    return round(statistics.median(kept) * 1000, 2)


async def _sdk_once(client: Any) -> tuple[float, float]:
    t0 = time.perf_counter()
    first = None
    stream = await client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "go"}], stream=True
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - t0
    return first or 0.0, time.perf_counter() - t0


async def _runtime_once(ctx: Any) -> tuple[float, float]:
    from agents.runtime import stream

    t0 = time.perf_counter()
    first = None
    async for event in stream("bench-stream", context=ctx, prompt="go"):
        if first is None and event.type == "text-delta":
            first = time.perf_counter() - t0
    return first or 0.0, time.perf_counter() - t0


async def _ws_chat(token: str, thread: str, expected: str) -> tuple[float, float, bool, bool]:
    """One chat over a socket: (first text frame s, whole s, error?, lost?)."""
    from config.asgi import application

    comm = WebsocketCommunicator(
        application, "/ws/agents/bench-stream/", headers=[(b"authorization", f"Token {token}".encode())]
    )
    connected, _ = await comm.connect(timeout=30)
    if not connected:
        return 0.0, 0.0, True, True
    t0 = time.perf_counter()
    await comm.send_json_to({"type": "message", "threadId": thread, "text": "go"})
    first, seqs, text, error = None, [], [], False
    while True:
        frame = await comm.receive_json_from(timeout=60)
        if frame.get("type") in ("run-started", "subscribed"):
            continue
        seqs.append(frame.get("seq"))
        chunk = frame.get("chunk") or {}
        if chunk.get("type") == "text-delta":
            first = first or time.perf_counter() - t0
            text.append(chunk["delta"])
        error = error or chunk.get("type") == "error" or frame.get("type") == "error"
        if frame.get("type") in ("run-end", "error"):
            break
    total = time.perf_counter() - t0
    await comm.disconnect()
    lost = seqs != list(range(1, len(seqs) + 1)) or "".join(text) != expected
    return first or 0.0, total, error, lost


async def _sse_timed(
    client: Any, path: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[float, float]:
    """(first text-delta s, whole s) of one POST answered as server-sent events."""
    t0 = time.perf_counter()
    response: Any = await client.post(
        path, json.dumps(body), content_type="application/json", headers=headers
    )
    first = None
    async for part in response.streaming_content:
        if first is None and b'"text-delta"' in part:
            first = time.perf_counter() - t0
    return first or 0.0, time.perf_counter() - t0


async def _sse_once(client: Any, token: str, chat_id: str) -> tuple[float, float]:
    body = {"id": chat_id, "messages": [{"role": "user", "parts": [{"type": "text", "text": "go"}]}]}
    headers = {"authorization": f"Token {token}"}
    return await _sse_timed(client, "/api/agents/bench-stream/chat", body, headers)


async def _floor_once(client: Any) -> tuple[float, float]:
    return await _sse_timed(client, "/bench/bare-sse", {}, {})


async def _quiet() -> None:
    """Let the last sample's background work end before the next is timed: a run's publisher
    still sends its frames to the replay buffer and the group after its client has the last
    one (a 1000-token answer's tail went on into the next path's first milliseconds), and the
    write-behind queues still hold its records."""
    from chat.runs import hub
    from core.writebehind import records, writer

    for _ in range(30_000):  # up to 30 s
        if not hub._RUNS:  # the hub's registry of runs in flight
            break
        await asyncio.sleep(0.001)

    def flushed() -> None:
        records.flush(timeout=30)
        writer.flush(timeout=30)

    await sync_to_async(flushed)()
    await asyncio.sleep(0.01)


async def bench_paths(server: ServerProcess, user: Any, token: str) -> dict[str, tuple[float, float]]:
    """(first text, whole) medians of each path, sampled in turn (SDK, runtime, WebSocket,
    SSE, then again), so that every path sees the same machine state."""
    from core.context import RequestContext

    tenant_id = await sync_to_async(lambda: user.membership.tenant_id)()
    ctx = RequestContext(tenant_id=tenant_id, user_id=user.pk, resource_id=str(user.pk))
    sdk_client = AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    sse_client = AsyncClient()
    sse_floor.client = AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
    samples: dict[str, list[tuple[float, float]]] = {
        "sdk": [],
        "runtime": [],
        "ws": [],
        "sse": [],
        "floor": [],
    }
    for i in range(N + 1):
        await _quiet()
        samples["sdk"].append(await _sdk_once(sdk_client))
        await _quiet()
        samples["runtime"].append(await _runtime_once(ctx))
        await _quiet()
        first, whole, error, lost = await _ws_chat(token, f"bench-ws-{RUN}-{i}", ANSWER)
        if error or lost:
            raise RuntimeError("a WebSocket run failed or lost frames")
        samples["ws"].append((first, whole))
        await _quiet()
        samples["sse"].append(await _sse_once(sse_client, token, f"bench-sse-{RUN}-{i}"))
        await _quiet()
        samples["floor"].append(await _floor_once(sse_client))
    await sdk_client.close()
    await sse_floor.client.close()
    return {path: (_ms([f for f, _ in got]), _ms([w for _, w in got])) for path, got in samples.items()}


async def bench_concurrent(server: ServerProcess, token: str) -> dict[str, Any]:
    server.always(ChatReply(text=SHORT))
    t0 = time.perf_counter()
    results = await asyncio.gather(
        *[_ws_chat(token, f"bench-many-{RUN}-{i}", SHORT) for i in range(CONCURRENT)], return_exceptions=True
    )
    wall = time.perf_counter() - t0
    failures = [r for r in results if isinstance(r, BaseException)]
    done = [r for r in results if not isinstance(r, BaseException)]
    return {
        "chats": CONCURRENT,
        "errors": len(failures) + sum(1 for r in done if r[2]),
        "lost": len(failures) + sum(1 for r in done if r[3]),
        "wall_s": round(wall, 2),
        "median_whole_ms": _ms([r[1] for r in done]) if done else None,
    }


def _drain_queue() -> None:
    import redis

    from memory import dispatch

    dispatch.wait_idle()
    redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(BENCH_QUEUE)


async def main() -> None:
    server = ServerProcess().start()  # its own process: no shared GIL with the clients measured
    server.always(ChatReply(text=ANSWER))
    user, token = await sync_to_async(_setup)(server)
    paths = None if SKIP_PATHS else await bench_paths(server, user, token)
    many = await bench_concurrent(server, token)
    server.stop()
    await sync_to_async(_drain_queue)()
    print(f"channel layer: {settings.CHANNEL_LAYERS['default']['BACKEND']}")
    if paths is not None:
        sdk, runtime, ws, sse, floor = (paths[k] for k in ("sdk", "runtime", "ws", "sse", "floor"))
        print(f"1000-token answer, median of {N}, paths sampled in turn (first text ms / whole ms)")
        print(f"  openai SDK direct         {sdk[0]:>8} / {sdk[1]}")
        print(f"  runtime stream()          {runtime[0]:>8} / {runtime[1]}")
        print(f"  WebSocket client          {ws[0]:>8} / {ws[1]}")
        print(f"  SSE route                 {sse[0]:>8} / {sse[1]}")
        print(f"  bare Django view (floor)  {floor[0]:>8} / {floor[1]}")
        print(
            f"  first text vs SDK: runtime {runtime[0] - sdk[0]:+.2f} ms, WebSocket {ws[0] - sdk[0]:+.2f} ms, "
            f"SSE route {sse[0] - sdk[0]:+.2f} ms, bare Django view {floor[0] - sdk[0]:+.2f} ms"
        )
    print(f"{many['chats']} concurrent WebSocket chats: {many}")


if __name__ == "__main__":
    asyncio.run(main())
