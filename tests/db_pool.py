"""What the tests read of this process's database connection pool (`DB_POOL`)."""

from __future__ import annotations

from typing import Any

from django.db import connections


def checked_out(alias: str = "default") -> int | None:
    """How many of the pool's connections are handed out now; None while the process has no
    pool (without DB_POOL, or before its first connection): reading never creates one."""
    pools: dict[str, Any] = getattr(type(connections[alias]), "_connection_pools", {})
    pool = pools.get(alias)
    if pool is None:
        return None
    stats = pool.get_stats()
    return int(stats.get("pool_size", 0)) - int(stats.get("pool_available", 0))
