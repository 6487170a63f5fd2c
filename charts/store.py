"""Chart entries in Redis: one key per chart under its tenant and owner, with a TTL, and a
pub/sub channel of the same name that announces each change (so waiting clients hold no thread)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis
import redis.asyncio as aioredis
from django.conf import settings

from charts.schemas import ChartEntry

_client: redis.Redis | None = None


def _sync() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def chart_key(*, tenant_id: int, owner_id: int | None, chart_id: str) -> str:
    """The key (and channel) of a chart: another owner's key for the same id holds nothing."""
    return f"charts:{tenant_id}:{owner_id if owner_id is not None else '-'}:{chart_id}"


def entry_write(key: str, entry: ChartEntry, *, ttl_s: int | None = None) -> None:
    """Store the entry (a new TTL when `ttl_s` is given, else the one it has) and announce it."""
    client = _sync()
    body = entry.model_dump_json()
    if ttl_s is None:
        client.set(key, body, keepttl=True)
    else:
        client.set(key, body, ex=ttl_s)
    client.publish(key, entry.status)


def entry_read(key: str) -> ChartEntry | None:
    raw = _sync().get(key)
    return ChartEntry.model_validate_json(raw) if raw else None


async def entry_wait(
    key: str, *, done: Callable[[ChartEntry | None], bool], timeout_s: float
) -> ChartEntry | None:
    """The entry once `done(entry)` holds or `timeout_s` passed, whichever is first.

    Subscribes before reading, so a change between the read and the wait is not missed.
    """
    client = aioredis.Redis.from_url(settings.REDIS_URL)
    try:
        async with client.pubsub() as pubsub:
            await pubsub.subscribe(key)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout_s
            while True:
                raw = await client.get(key)
                entry = ChartEntry.model_validate_json(raw) if raw else None
                remaining = deadline - loop.time()
                if done(entry) or remaining <= 0:
                    return entry
                await pubsub.get_message(ignore_subscribe_messages=True, timeout=remaining)
    finally:
        await client.aclose()
