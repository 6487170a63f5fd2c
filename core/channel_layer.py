"""The Redis channel layer, with read timeouts apart from its blocking read and a bounded pool.

channels-redis waits for a socket's messages with a blocking `BZPOPMIN` of
`brpop_timeout` (5 s). redis-py's default socket timeout is also 5 s, so every idle
read raced the socket timeout, lost, and took the idle consumer down with
`redis.exceptions.TimeoutError` (the browser saw a 1011 close about every 5 s). This
layer refuses a read timeout that is not longer than the blocking read, and gives each
host a blocking connection pool: under a burst of group sends a caller waits for a free
connection (up to the pool's `timeout`) instead of failing with "Too many connections".
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer
from django.core.exceptions import ImproperlyConfigured
from redis import asyncio as aioredis

# redis-py's default when no socket_timeout is given (redis/_defaults.py).
_REDIS_DEFAULT_SOCKET_TIMEOUT_S = 5.0


class RedisChannelLayer(_RedisChannelLayer):
    """channels-redis's layer; each host is `{"address": url, **connection and pool options}`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for host in self.hosts:
            timeout = host.get("socket_timeout", _REDIS_DEFAULT_SOCKET_TIMEOUT_S)
            if timeout is not None and float(timeout) <= self.brpop_timeout:
                raise ImproperlyConfigured(
                    f"The channel layer's socket_timeout ({timeout} s) must be longer than its "
                    f"blocking read ({self.brpop_timeout} s), or every idle socket is closed."
                )

    def create_pool(self, index: int) -> aioredis.BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return aioredis.BlockingConnectionPool.from_url(address, **host)
