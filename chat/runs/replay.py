"""The replay buffer: every frame of a run, kept in a Redis stream for a while.

A client that reconnects asks for the frames after the last sequence number it saw, or
follows a run from its first frame to its end (the SSE route's resume, from another tab or
after a reload). Each frame is a stream entry whose id is `0-<seq>`: sequence numbers are
contiguous from 1, so "after n" is the range after id `0-n`, and a blocking `XREAD` from any
id hands over what is already there and then what comes. Keys are scoped by user, so a run
id alone never reveals another user's run; each expires `CHAT_REPLAY_TTL_S` after its last
frame. The user's newest run of each thread is kept under a key of its own (same TTL), which
is how a client that only knows its chat id finds the run to resume.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any, Literal

import redis
import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)

Frame = dict[str, Any]
_FIELD = b"f"
_MAX_BLOCK_S = 20.0

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()
_followers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = weakref.WeakKeyDictionary()
_sync_client: redis.Redis | None = None


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


def _follower() -> aioredis.Redis:
    """A pool of its own for blocking reads, so a resumed stream never holds an append's connection."""
    loop = asyncio.get_running_loop()
    client = _followers.get(loop)
    if client is None:
        pool = aioredis.BlockingConnectionPool.from_url(
            settings.REDIS_URL,
            max_connections=int(getattr(settings, "CHAT_RESUME_REDIS_CONNECTIONS", 200)),
            timeout=5,
            # Longer than the longest blocking read (redis-py's default of 5 s would cut it).
            socket_timeout=_MAX_BLOCK_S + 10,
        )
        client = aioredis.Redis(connection_pool=pool)
        _followers[loop] = client
    return client


def _sync() -> redis.Redis:
    global _sync_client  # one client per process, made on first use
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL)
    return _sync_client


def _key(*, user_id: int | str, run_id: str) -> str:
    return f"chat:replay:{user_id}:{run_id}"


def _active_key(*, user_id: int | str, thread_id: str) -> str:
    return f"chat:active:{user_id}:{thread_id}"


def _ttl_s() -> int:
    return int(getattr(settings, "CHAT_REPLAY_TTL_S", 3600))


def _decode(fields: dict[bytes, bytes]) -> Frame:
    frame: Frame = json.loads(fields[_FIELD])
    return frame


async def replay_append(
    *, user_id: int | str, run_id: str, frames: list[Frame], thread_id: str | None = None
) -> None:
    """Append frames (in order); with `thread_id`, the run becomes the thread's newest for
    this user. A Redis failure is logged and never breaks the live run."""
    key = _key(user_id=user_id, run_id=run_id)
    ttl = _ttl_s()
    try:
        async with _client().pipeline(transaction=False) as pipe:
            for frame in frames:
                pipe.xadd(key, {_FIELD: json.dumps(frame, separators=(",", ":"))}, id=f"0-{frame['seq']}")
            pipe.expire(key, ttl)
            if thread_id is not None:
                pipe.set(_active_key(user_id=user_id, thread_id=thread_id), run_id, ex=ttl)
            await pipe.execute()
    except aioredis.RedisError:
        logger.warning("replay buffer unavailable for run %s", run_id, exc_info=True)


async def replay_after(*, user_id: int | str, run_id: str, after_seq: int) -> list[Frame] | None:
    """The frames of a run with a sequence number greater than `after_seq`; None when the user
    has no such run (never had, or its frames expired)."""
    key = _key(user_id=user_id, run_id=run_id)
    async with _client().pipeline(transaction=False) as pipe:
        pipe.exists(key)
        pipe.xrange(key, min=f"0-{max(after_seq, 0) + 1}", max="+")
        exists, entries = await pipe.execute()
    return [_decode(fields) for _, fields in entries] if exists else None


async def replay_length(*, user_id: int | str, run_id: str) -> int:
    """The run's last sequence number in the buffer; 0 when unknown or when Redis fails (logged:
    a continuation then numbers its frames from 1 again, and the buffer refuses them)."""
    try:
        entries: Any = await _client().xrevrange(_key(user_id=user_id, run_id=run_id), count=1)
    except aioredis.RedisError:
        logger.warning("replay buffer unavailable for run %s", run_id, exc_info=True)
        return 0
    return int(_decode(entries[0][1])["seq"]) if entries else 0


RunState = Literal["unknown", "running", "ended"]


def _state(entries: list[Any]) -> RunState:
    if not entries:
        return "unknown"
    return "ended" if _decode(entries[0][1]).get("type") == "run-end" else "running"


async def replay_run_state(*, user_id: int | str, run_id: str) -> RunState:
    """Whether the user's run is known to the buffer, and whether its `run-end` was sent."""
    entries: Any = await _client().xrevrange(_key(user_id=user_id, run_id=run_id), count=1)
    return _state(entries)


def thread_run_in_flight(*, user_id: int | str, thread_id: str) -> str | None:
    """The id of the user's newest run on the thread while it is still running; None when there
    is none (never was, ended, or expired). Synchronous, for the views."""
    client = _sync()
    raw = client.get(_active_key(user_id=user_id, thread_id=thread_id))
    if raw is None:
        return None
    run_id = raw.decode() if isinstance(raw, bytes) else str(raw)
    entries: Any = client.xrevrange(_key(user_id=user_id, run_id=run_id), count=1)
    return run_id if _state(entries) == "running" else None


IDLE: Frame = {"type": "idle"}


async def replay_follow(*, user_id: int | str, run_id: str, idle_s: float) -> AsyncIterator[Frame]:
    """Every frame of the run from its first, then each new one as it is appended, up to and
    including `run-end`. Yields `IDLE` after `idle_s` without a frame (for heartbeats; 0 sends
    none); ends early when the run's frames expire.

    A run that suspended and was then decided has its continuation's frames after its
    suspended `run-end` (one sequence, see `hub.run_continue`): that `run-end` is passed over
    when frames follow it, so a client that resumes during the continuation gets the run
    from its first chunk to its real end. With nothing after it yet, it ends the follow (the
    run waits for a person)."""
    key = _key(user_id=user_id, run_id=run_id)
    client = _follower()
    last = "0-0"
    block_ms = int(min(idle_s if idle_s > 0 else _MAX_BLOCK_S, _MAX_BLOCK_S) * 1000)
    while True:
        answer: Any = await client.xread({key: last}, count=1000, block=block_ms)
        if not answer:
            if not await client.exists(key):
                return
            if idle_s > 0:
                yield IDLE
            continue
        # RESP2 answers [[key, entries]], RESP3 {key: [entries]}.
        entries = next(iter(answer.values()))[0] if isinstance(answer, dict) else answer[0][1]
        for index, (entry_id, fields) in enumerate(entries):
            last = entry_id
            frame = _decode(fields)
            if frame.get("type") == "run-end":
                if frame.get("status") == "suspended" and (
                    index + 1 < len(entries) or await _continued(client, key, entry_id)
                ):
                    continue  # the run was decided and goes on: follow its continuation too
                yield frame
                return
            yield frame


async def _continued(client: aioredis.Redis, key: str, entry_id: Any) -> bool:
    """Whether frames follow the entry `entry_id` (a suspended run's `run-end`): its continuation."""
    after = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    entries: Any = await client.xrange(key, min=f"({after}", max="+", count=1)
    return bool(entries)
