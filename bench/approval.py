"""A tool round trip that waited for approval, from the decision to the continued answer, against
the same tool round trip without approval, in the same run (bar: under 1.5x).

Both sides run on one event loop against the scripted server in a process of its own. The
approval side first runs the agent until it stops at the tool call (not timed), then times
`tool_call_decide` (the decision committed, the run claimed) plus `run_continue_result` (the
run read back from PostgreSQL, the tool, the second model call, the outcome committed): what
`POST /api/agents/{id}/approve-tool-call-generate` does after authentication. The samples
alternate between the two sides. Run: `.venv/bin/python bench/approval.py` (`BENCH_RUNS`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import machine  # noqa: I001 - sets Django up before the platform is imported

from django.conf import settings
from pydantic import BaseModel

from agents.runs.services import run_continue_result, tool_call_decide
from agents.runtime import agenerate
from agents.services import agent_save, tools_sync
from agents.tools import ToolContext, tool
from core.access import Actor
from core.context import RequestContext
from core.db import db_to_async
from core.tenancy import tenant_get_or_create
from core.writebehind import writer
from tests.fakes.server_process import ServerProcess

RUNS = int(os.environ.get("BENCH_RUNS", "200"))
ROUNDS = 3


class LookupIn(BaseModel):
    key: str


class LookupOut(BaseModel):
    value: str


@tool(id="bench_lookup_free", description="Look a key up", side_effect="read")
def lookup_free(ctx: ToolContext, args: LookupIn) -> LookupOut:
    return LookupOut(value=args.key.upper())


@tool(id="bench_lookup_gated", description="Look a key up", side_effect="read", needs_approval=True)
def lookup_gated(ctx: ToolContext, args: LookupIn) -> LookupOut:
    return LookupOut(value=args.key.upper())


async def measure(ctx: RequestContext, actor: Actor) -> tuple[float, float]:
    decide = db_to_async(tool_call_decide)

    async def plain() -> float:
        start = time.perf_counter()
        result = await agenerate("bench-free", context=ctx, prompt="lookup abc")
        assert result.status == "completed"
        return (time.perf_counter() - start) * 1000

    async def approved() -> float:
        waiting = await agenerate("bench-gated", context=ctx, prompt="lookup abc")
        assert waiting.status == "suspended"
        start = time.perf_counter()
        decision = await decide(
            actor=actor,
            agent_id="bench-gated",
            run_id=waiting.run_id,
            tool_call_id=waiting.pending_tool_calls[0]["toolCallId"],
            approve=True,
        )
        result = await run_continue_result(decision=decision)
        elapsed = (time.perf_counter() - start) * 1000
        assert result.status == "completed"
        assert result.text == "The value is ABC"
        return elapsed

    for _ in range(20):  # warm-up
        await plain()
        await approved()
    free, gated = [], []
    for _ in range(RUNS):
        free.append(await plain())
        gated.append(await approved())
    writer.flush(timeout=30)
    return statistics.median(free), statistics.median(gated)


def main() -> None:
    server = ServerProcess(responder="bench").start()
    os.environ["BENCH_KEY"] = "sk-bench-key-0000000"
    settings.MODEL_PROVIDERS = {
        **settings.MODEL_PROVIDERS,
        "bench": {"base_url": server.base_url, "api_key_env": "BENCH_KEY"},
    }
    tools_sync()
    tenant = tenant_get_or_create(slug="bench")
    for slug, tool_id in (("bench-free", "bench_lookup_free"), ("bench-gated", "bench_lookup_gated")):
        agent_save(
            slug=slug, name=slug, instructions="You are fast.", model="bench/gpt-test", tools=[tool_id]
        )
    ctx = RequestContext(tenant_id=tenant.pk, user_id=None)
    actor = Actor.system(tenant_id=tenant.pk)
    rounds: list[tuple[float, float]] = []
    for _ in range(ROUNDS):
        rounds.append(asyncio.run(measure(ctx, actor)))
    free = statistics.median(r[0] for r in rounds)
    gated = statistics.median(r[1] for r in rounds)
    ratios = ", ".join(f"{g / f:.2f}x" for f, g in rounds)
    print(f"machine: {machine()}; samples per side and round: {RUNS}, rounds: {ROUNDS}")
    print(f"tool round trip without approval (agenerate)      : {free:.2f} ms")
    print(f"decision to continued answer (decide + continue)  : {gated:.2f} ms")
    print(f"ratio {gated / free:.2f}x (rounds: {ratios}; bar < 1.5x)")
    server.stop()


if __name__ == "__main__":
    main()
