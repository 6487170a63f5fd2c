"""Shared set-up for benchmarks: Django on the product settings (DEBUG off), timing helpers."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.main")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-0123456789")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")

import django

django.setup()


def interleaved_ms(
    arms: dict[str, Callable[[], Any]],
    *,
    runs: int,
    block: int = 20,
    warmup: int = 20,
    between: Callable[[], Any] | None = None,
) -> dict[str, float]:
    """Median milliseconds of each arm over `runs` calls, taken in alternating blocks of `block`
    calls (arm A's block, arm B's block, ..., again), so that a machine whose speed drifts
    from one second to the next slows every arm alike. `between` runs untimed after each
    block (a flush of what the block left queued, so that no arm pays for another's work)."""
    for fn in arms.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in arms}
    for _ in range(max(1, runs // block)):
        for name, fn in arms.items():
            for _ in range(block):
                start = time.perf_counter()
                fn()
                samples[name].append((time.perf_counter() - start) * 1000)
            if between is not None:
                between()
    return {name: statistics.median(values) for name, values in samples.items()}


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
