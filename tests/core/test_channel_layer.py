"""The Redis channel layer as configured for production, against the real Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.core.exceptions import ImproperlyConfigured

from core.channel_layer import RedisChannelLayer


@pytest.fixture
async def redis_layer(settings: Any) -> Any:
    settings.CHANNEL_LAYERS = settings.REDIS_CHANNEL_LAYERS
    layer = get_channel_layer()
    yield layer
    await layer.flush()


def test_a_read_timeout_no_longer_than_the_blocking_read_is_refused(settings: Any) -> None:
    host = settings.REDIS_CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    with pytest.raises(ImproperlyConfigured, match="socket_timeout"):
        RedisChannelLayer(hosts=[{**host, "socket_timeout": 5}])
    with pytest.raises(ImproperlyConfigured, match="socket_timeout"):
        RedisChannelLayer(hosts=[{"address": host["address"]}])  # redis-py's default: 5 s


async def test_more_concurrent_group_sends_than_pooled_connections_all_arrive(redis_layer: Any) -> None:
    # As under a burst of chats: every run's publisher sends to its thread's group at once.
    sends = 300  # three times the default pool (redis-py and ours: 100)
    channel = await redis_layer.new_channel()
    await redis_layer.group_add("burst", channel)
    await asyncio.gather(*[redis_layer.group_send("burst", {"type": "t", "n": n}) for n in range(sends)])
    got = {(await redis_layer.receive(channel))["n"] for _ in range(sends)}
    assert got == set(range(sends))
