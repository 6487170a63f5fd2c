"""The replay buffer: every frame of a run, kept in Redis for a while.

A client that reconnects asks for the frames after the last sequence number it
saw. Frames are appended in order with contiguous sequence numbers starting at
1, so "after n" is the list slice from index n. Keys are scoped by user, so a
run id alone never reveals another user's run.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from typing import Any, Literal

import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()


def _client() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        # A blocking pool: under a burst of runs, appends wait for a free
        # connection instead of failing with "Too many connections".
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=int(getattr(settings, "CHAT_REPLAY_REDIS_CONNECTIONS", 32)),
            timeout=5,
        )
        client = aioredis.Redis(connection_pool=pool)
        _clients[loop] = client
    return client


def _key(*, user_id: int | str, run_id: str) -> str:
    return f"chat:replay:{user_id}:{run_id}"


def _ttl_s() -> int:
    return int(getattr(settings, "CHAT_REPLAY_TTL_S", 3600))


async def replay_append(*, user_id: int | str, run_id: str, frames: list[dict[str, Any]]) -> None:
    """Append frames; a Redis failure is logged and never breaks the live run."""
    key = _key(user_id=user_id, run_id=run_id)
    try:
        async with _client().pipeline(transaction=False) as pipe:
            pipe.rpush(key, *[json.dumps(f, separators=(",", ":")) for f in frames])
            pipe.expire(key, _ttl_s())
            await pipe.execute()
    except aioredis.RedisError:
        logger.warning("replay buffer unavailable for run %s", run_id, exc_info=True)


async def replay_after(*, user_id: int | str, run_id: str, after_seq: int) -> list[dict[str, Any]] | None:
    """The frames of a run with a sequence number greater than `after_seq`; None when the user
    has no such run (never had, or its frames expired)."""
    key = _key(user_id=user_id, run_id=run_id)
    async with _client().pipeline(transaction=False) as pipe:
        pipe.exists(key)
        pipe.lrange(key, max(after_seq, 0), -1)
        exists, raw = await pipe.execute()
    return [json.loads(item) for item in raw] if exists else None


RunState = Literal["unknown", "running", "ended"]


async def replay_run_state(*, user_id: int | str, run_id: str) -> RunState:
    """Whether the user's run is known to the buffer, and whether its `run-end` was sent."""
    last = await _client().lindex(_key(user_id=user_id, run_id=run_id), -1)
    if last is None:
        return "unknown"
    return "ended" if json.loads(last).get("type") == "run-end" else "running"
