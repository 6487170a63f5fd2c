"""Memory benchmarks (figures go in docs/benchmarks.md).

1. An agent turn with memory on one growing thread, as a ratio to the direct
   `openai` SDK call with the same 22-message prompt, in the same run against the
   same scripted OpenAI-compatible server over HTTP. The memory side: the user
   message persisted, the last 20 messages loaded from PostgreSQL and converted,
   the run (with its spans) persisted by the runtime, the assistant message
   persisted, and both messages' embeddings enqueued to Celery (Redis) as one task for a worker.
2. Loading the last 20 messages of a 100,000-message thread.
3. Recall p50/p99 and recall@10 against exact search over 1,000,000 synthetic
   384-d vectors with HNSW (see bench/memory_vectors.py; build it first).

Everything lives in its own databases (`bench_memory_app`, `bench_memory`), never
the test database. Run:
    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/memory.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ["EMBEDDED_DB_NAME"] = "bench_memory_app"

import django  # noqa: E402

django.setup()

import openai  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
BIG_THREAD = 100_000
QUEUE = "bench-memory-embeddings"


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def timed(fn: Callable[[], Any], runs: int, warmup: int = 10) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def history_load(tenant_id: int) -> dict[str, float]:
    from memory.conversion import to_openai_messages
    from memory.models import Message, Thread
    from memory.selectors import messages_last

    thread, _ = Thread.objects.get_or_create(
        id="bench-100k", tenant_id=tenant_id, defaults={"resource_id": "b"}
    )
    have = Message.objects.filter(thread=thread).count()
    if have < BIG_THREAD:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows = [
            Message(
                id=f"bench-100k-{i}",
                thread_id=thread.id,
                tenant_id=tenant_id,
                resource_id="b",
                role="user" if i % 2 == 0 else "assistant",
                parts=[{"type": "text", "text": f"message number {i} with a little text in it"}],
                text=f"message number {i} with a little text in it",
                created_at=start + timedelta(seconds=i),
            )
            for i in range(have, BIG_THREAD)
        ]
        Message.objects.bulk_create(rows, batch_size=5000)
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("ANALYZE memory_message")

    def load() -> None:
        history = to_openai_messages(messages_last(tenant_id=tenant_id, thread_id="bench-100k", limit=20))
        assert len(history) == 20

    p50, p99 = percentiles(timed(load, RUNS))
    return {"messages_in_thread": float(BIG_THREAD), "p50_ms": p50, "p99_ms": p99}


def turn_ratio(tenant_id: int) -> dict[str, float]:
    from agents.runtime import MemoryOptions, generate
    from agents.services import agent_save
    from config.celery import app
    from core.context import RequestContext
    from memory import dispatch
    from memory.services import MessageInput, message_save, thread_ensure
    from tests.fakes.openai_server import ChatReply
    from tests.fakes.server_process import ServerProcess

    server = ServerProcess().start()  # its own process: no shared GIL with the client
    server.always(ChatReply(text="Sure, noted.", prompt_tokens=200, completion_tokens=4))
    os.environ["SCRIPTED_API_KEY"] = "sk-bench-scripted"
    settings.MODEL_PROVIDERS["scripted"] = {"base_url": server.base_url, "api_key_env": "SCRIPTED_API_KEY"}
    settings.EMBEDDER = "scripted/embed-bench"
    # Real enqueueing to Redis; the bench drains the queue afterwards instead of running a worker.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.task_always_eager = False
    app.conf.task_default_queue = QUEUE  # a queue of its own, so no worker on this machine drains it
    dispatch._last_check = (time.monotonic() + 10_000, True)  # a worker is assumed: enqueue, never inline
    agent_save(
        slug="bench-memory",
        name="Bench",
        instructions="You are helpful.",
        model="scripted/gpt-test",
        tools=[],
    )
    thread_id = f"bench-turn-{uuid.uuid4().hex[:8]}"
    resource = "bench-user"
    ctx = RequestContext(tenant_id=tenant_id, user_id=None, resource_id=resource)
    thread_ensure(tenant_id=tenant_id, thread_id=thread_id, resource_id=resource)
    for i in range(20):
        message_save(
            tenant_id=tenant_id,
            thread_id=thread_id,
            message=MessageInput(
                id=uuid.uuid4().hex,
                role="user" if i % 2 == 0 else "assistant",
                parts=[{"type": "text", "text": f"earlier message {i} about the plan"}],
            ),
        )

    def memory_turn() -> None:
        prompt = f"turn {uuid.uuid4().hex[:6]}: what next?"
        generate(
            "bench-memory",
            context=ctx,
            prompt=prompt,
            memory=MemoryOptions(thread_id=thread_id, resource_id=resource),
        )

    client = openai.OpenAI(base_url=server.base_url, api_key="sk-bench-scripted", max_retries=0)
    prompt22 = [{"role": "system", "content": "You are helpful."}]
    prompt22 += [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"earlier message {i} about the plan"}
        for i in range(20)
    ]
    prompt22 += [{"role": "user", "content": "turn x: what next?"}]

    def direct() -> None:
        client.chat.completions.create(model="gpt-test", messages=prompt22)  # type: ignore[arg-type]

    memory_turn()
    sent = server.last_chat_messages()
    assert len(sent) == 22, len(sent)
    samples_memory, samples_direct = [], []
    for _ in range(10):
        memory_turn()
        direct()
    for _ in range(RUNS):  # interleaved so both sides see the same machine state
        samples_memory += timed(memory_turn, 1, warmup=0)
        samples_direct += timed(direct, 1, warmup=0)
    import redis

    dispatch.wait_idle()  # the enqueues run in a background thread, off the turn's path
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queued = broker.llen(QUEUE)
    broker.delete(QUEUE)
    server.stop()
    m50, m99 = percentiles(samples_memory)
    d50, d99 = percentiles(samples_direct)
    return {
        "memory_turn_p50_ms": m50,
        "direct_sdk_p50_ms": d50,
        "ratio_p50": m50 / d50,
        "memory_turn_p99_ms": m99,
        "direct_sdk_p99_ms": d99,
        "embedding_tasks_enqueued": float(queued),  # one per turn: its user and assistant messages
    }


def main() -> None:
    from core.tenancy import tenant_get_or_create

    call_command("migrate", verbosity=0)
    tenant = tenant_get_or_create(slug="bench", name="Bench")
    import platform

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("history load:", {k: round(v, 3) for k, v in history_load(tenant.pk).items()})
    print("turn with memory:", {k: round(v, 3) for k, v in turn_ratio(tenant.pk).items()})
    if os.environ.get("BENCH_SKIP_VECTORS") != "1":
        from bench import memory_vectors

        print("recall at scale:", {k: round(v, 4) for k, v in memory_vectors.measure().items()})


if __name__ == "__main__":
    main()
