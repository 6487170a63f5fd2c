"""Agent turn, tool round trip and concurrent throughput, against the direct `openai` SDK.

Both sides talk to the same scripted OpenAI-compatible server over HTTP, in one
run; the server runs in a process of its own. The platform side persists the run and its spans as in
production. Run: `make bench` or `.venv/bin/python bench/agent_turn.py`.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import interleaved_ms, machine  # noqa: I001 - sets Django up before the platform is imported

import httpx2
import openai
from django.conf import settings
from pydantic import BaseModel

from agents.runtime import agenerate, generate
from agents.services import agent_save, tools_sync
from agents.tools import ToolContext, tool
from core.context import RequestContext
from core.tenancy import tenant_get_or_create
from core.writebehind import records, writer
from agents.models import Run
from tests.fakes.server_process import ServerProcess

RUNS = int(os.environ.get("BENCH_RUNS", "300"))
CONCURRENCY = 50
ROUNDS = 3


class LookupIn(BaseModel):
    key: str


class LookupOut(BaseModel):
    value: str


@tool(id="bench_lookup", description="Look a key up", side_effect="read")
def bench_lookup(ctx: ToolContext, args: LookupIn) -> LookupOut:
    return LookupOut(value=args.key.upper())


def direct_tool_round_trip(client: Any, tools: list[dict[str, Any]]) -> str:
    messages: list[Any] = [
        {"role": "system", "content": "You are fast."},
        {"role": "user", "content": "lookup abc"},
    ]
    first = client.chat.completions.create(model="gpt-test", messages=messages, tools=tools)
    call = first.choices[0].message.tool_calls[0]
    args = LookupIn.model_validate_json(call.function.arguments)
    output: Any = bench_lookup.function(None, args)  # type: ignore[arg-type]
    messages.append(first.choices[0].message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": output.model_dump_json()})
    second = client.chat.completions.create(model="gpt-test", messages=messages, tools=tools)
    return second.choices[0].message.content or ""


async def rps(arms: dict[str, Any], *, calls: int = CONCURRENCY * 8) -> dict[str, float]:
    """Requests per second of each arm with exactly CONCURRENCY calls in flight (each of
    CONCURRENCY workers starts its next call when its last one returns), the median of
    ROUNDS rounds, the arms' rounds alternating (as `interleaved_ms`)."""

    async def worker(make_call: Any, count: int) -> None:
        for _ in range(count):
            await make_call()

    for make_call in arms.values():  # warm the connection pools
        await asyncio.gather(*(worker(make_call, 2) for _ in range(CONCURRENCY)))
    writer.flush(timeout=30)
    rates: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(ROUNDS):
        for name, make_call in arms.items():
            start = time.perf_counter()
            await asyncio.gather(*(worker(make_call, calls // CONCURRENCY) for _ in range(CONCURRENCY)))
            writer.flush(timeout=30)  # the round ends when its runs are on disk, not just queued
            rates[name].append(calls / (time.perf_counter() - start))
    return {name: statistics.median(values) for name, values in rates.items()}


def main() -> None:
    server = ServerProcess(responder="bench").start()  # its own process: no shared GIL with the client
    os.environ["BENCH_KEY"] = "sk-bench-key-0000000"
    settings.MODEL_PROVIDERS = {
        **settings.MODEL_PROVIDERS,
        "bench": {"base_url": server.base_url, "api_key_env": "BENCH_KEY"},
    }
    tools_sync()
    tenant = tenant_get_or_create(slug="bench")
    agent_save(
        slug="bench-plain", name="Bench", instructions="You are fast.", model="bench/gpt-test", tools=[]
    )
    agent_save(
        slug="bench-tools",
        name="Bench tools",
        instructions="You are fast.",
        model="bench/gpt-test",
        tools=["bench_lookup"],
    )
    ctx = RequestContext(tenant_id=tenant.pk, user_id=None)
    client: Any = openai.OpenAI(base_url=server.base_url, api_key="sk-bench-key-0000000", max_retries=0)
    tools = [bench_lookup.openai_spec()]
    plain = [{"role": "system", "content": "You are fast."}, {"role": "user", "content": "hello"}]

    def flushed() -> None:
        records.flush(timeout=30)
        writer.flush(timeout=30)

    # Alternating blocks of calls: this machine's speed drifts by up to 2x within a minute,
    # and a ratio of medians taken minutes apart measured the drift, not the platform.
    med = interleaved_ms(
        {
            "sdk_turn": lambda: client.chat.completions.create(model="gpt-test", messages=plain),
            "turn": lambda: generate("bench-plain", context=ctx, prompt="hello"),
            "sdk_tool": lambda: direct_tool_round_trip(client, tools),
            "tool": lambda: generate("bench-tools", context=ctx, prompt="lookup abc"),
        },
        runs=RUNS * ROUNDS,
        between=flushed,
    )

    async def concurrent() -> dict[str, float]:
        # The SDK's default client (httpx), as an application would make it; the platform's
        # own client uses the SDK's aiohttp transport (agents.providers.openai_client).
        aclient: Any = openai.AsyncOpenAI(
            base_url=server.base_url, api_key="sk-bench-key-0000000", max_retries=0
        )
        # The ceiling: the platform's own request alone (the SDK on aiohttp, its generic `post`,
        # the answer read as JSON), with nothing persisted.
        transport: Any = openai.AsyncOpenAI(
            base_url=server.base_url,
            api_key="sk-bench-key-0000000",
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )
        body = {"model": "gpt-test", "messages": plain}
        rates = await rps(
            {
                "sdk_rps": lambda: aclient.chat.completions.create(model="gpt-test", messages=plain),
                "rps": lambda: agenerate("bench-plain", context=ctx, prompt="hello"),
                "ceiling_rps": lambda: transport.post(
                    "/chat/completions", body=body, cast_to=httpx2.Response
                ),
            }
        )
        await aclient.close()
        await transport.close()
        return rates

    writer.flush(timeout=30)
    runs_before = Run.objects.count()
    med.update(asyncio.run(concurrent()))
    writer.flush(timeout=30)
    persisted = Run.objects.count() - runs_before
    expected = CONCURRENCY * 2 + ROUNDS * CONCURRENCY * 8
    print(
        f"machine: {machine()}; calls per side: {RUNS * ROUNDS} in alternating blocks; concurrent rounds: {ROUNDS}"
    )
    print(
        f"agent turn      : direct SDK {med['sdk_turn']:.2f} ms, generate {med['turn']:.2f} ms, ratio {med['turn'] / med['sdk_turn']:.2f}x (bar < 1.35x)"
    )
    print(
        f"tool round trip : direct SDK {med['sdk_tool']:.2f} ms, generate {med['tool']:.2f} ms, ratio {med['tool'] / med['sdk_tool']:.2f}x (bar < 1.35x)"
    )
    print(
        f"50 concurrent   : direct SDK {med['sdk_rps']:.0f} req/s, agenerate {med['rps']:.0f} req/s, ratio {med['rps'] / med['sdk_rps']:.2f}x (bar >= 1.2x)"
    )
    print(
        f"  the platform's request alone (SDK on aiohttp, nothing persisted): {med['ceiling_rps']:.0f} req/s, "
        f"{med['ceiling_rps'] / med['sdk_rps']:.2f}x the direct SDK"
    )
    print(f"runs persisted by the concurrent part: {persisted} of {expected}")
    server.stop()


if __name__ == "__main__":
    main()
