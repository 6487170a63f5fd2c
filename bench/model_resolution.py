"""What model resolution adds to a run: a cached chain resolved per turn, and the provider's
model list fetched once per TTL, not per turn.

Run: `.venv/bin/python bench/model_resolution.py`. Against the scripted server in its own
process, with a fuzzy name (`bench/test mini`) and a tier fallback.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench._common import machine  # noqa: I001 - sets Django up before the platform is imported

from django.conf import settings

from agents.providers import catalog
from agents.providers.resolution import chain_resolve, chain_warm
from tests.fakes.server_process import ServerProcess

CALLS = 100_000


def per_call_us(fn: Callable[[], object], calls: int = CALLS) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    server = ServerProcess().start()  # lists gpt-test and gpt-test-mini
    try:
        settings.MODEL_PROVIDERS = {"bench": {"base_url": server.base_url, "api_key_env": ""}}
        catalog.cache_clear()
        start = time.perf_counter()
        chain = chain_resolve("bench/test mini", ("tier:fast",))
        first_ms = (time.perf_counter() - start) * 1000
        cached_us = per_call_us(lambda: chain_resolve("bench/test mini", ("tier:fast",)))

        async def warm() -> float:
            start = time.perf_counter()
            for _ in range(CALLS):
                await chain_warm("bench/test mini", ("tier:fast",))
            return (time.perf_counter() - start) / CALLS * 1e6

        warm_us = asyncio.run(warm())
        print(f"machine: {machine()}")
        print(f"resolved: {[ref.id for ref in chain]}")
        print(f"first resolution (one /models fetch): {first_ms:.2f} ms")
        print(f"cached chain_resolve: {cached_us:.2f} us per run; chain_warm (async path): {warm_us:.2f} us")
        print(f"/models fetches: {catalog.fetch_count('bench')}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
