"""Redis, the Channels layer and Celery."""

from __future__ import annotations

from config.env import env

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")

# The Channels layer (core.channel_layer): channels-redis over a blocking pool per process.
# Its blocking read lasts 5 s, so the read timeout must be longer (the layer refuses less);
# callers wait up to CHANNEL_REDIS_POOL_TIMEOUT_S for one of the pool's connections.
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", default="asgi")
CHANNEL_REDIS_MAX_CONNECTIONS = env.int("CHANNEL_REDIS_MAX_CONNECTIONS", default=100)
CHANNEL_REDIS_POOL_TIMEOUT_S = env.float("CHANNEL_REDIS_POOL_TIMEOUT_S", default=10.0)
CHANNEL_REDIS_SOCKET_TIMEOUT_S = env.float("CHANNEL_REDIS_SOCKET_TIMEOUT_S", default=30.0)


def redis_channel_layer(*, url: str, prefix: str) -> dict[str, object]:
    """The channel layer's settings entry for the Redis at `url`, its keys under `prefix`."""
    host = {
        "address": url,
        "socket_timeout": CHANNEL_REDIS_SOCKET_TIMEOUT_S,
        "socket_connect_timeout": 5.0,
        "socket_keepalive": True,
        "health_check_interval": 30,
        "max_connections": CHANNEL_REDIS_MAX_CONNECTIONS,
        "timeout": CHANNEL_REDIS_POOL_TIMEOUT_S,
    }
    return {
        "BACKEND": "core.channel_layer.RedisChannelLayer",
        "CONFIG": {"hosts": [host], "prefix": prefix, "capacity": 1500, "expiry": 60},
    }


CHANNEL_LAYERS = {"default": redis_channel_layer(url=REDIS_URL, prefix=CHANNEL_LAYER_PREFIX)}

# The chat WebSocket (chat/transport.py): a `heartbeat` frame every CHAT_WS_HEARTBEAT_S seconds
# (0: none), and the largest frame a client may send (a larger one is closed with 1009).
CHAT_WS_HEARTBEAT_S = env.float("CHAT_WS_HEARTBEAT_S", default=15.0)
CHAT_WS_MAX_FRAME_BYTES = env.int("CHAT_WS_MAX_FRAME_BYTES", default=1024 * 1024)
# The SSE chat route (chat/sse.py): a `: heartbeat` comment after CHAT_SSE_HEARTBEAT_S seconds
# without a chunk, so proxies that close idle responses keep a long stream open (0: none).
CHAT_SSE_HEARTBEAT_S = env.float("CHAT_SSE_HEARTBEAT_S", default=15.0)
# How long a WebSocket ticket (POST /api/ws-tickets, core/ws_tickets.py) may wait for its socket.
WS_TICKET_TTL_S = env.int("WS_TICKET_TTL_S", default=60)

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"
# Celery's Django fixup closes Django's whole connection pool after every task in a prefork
# worker (celery/celery#10554), so each task waited for new PostgreSQL connections (about
# 5 ms, and a server process each). With a reuse count it leaves connections alone between
# tasks; `config.celery` hands each task's connection back to the pool instead, and the
# fixup still closes the pool a child process inherits when it starts.
CELERY_DB_REUSE_MAX = 2**31
# Periodic jobs. Each app adds its own entries in its AppConfig.ready() with
# `config.celery.periodic(...)`; django-celery-beat syncs them into the database.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {}
