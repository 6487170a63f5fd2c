"""Stopping a run that is executing, in whichever process runs it.

`POST /api/runs/{runId}/cancel` (and a WebSocket `abort` for a run another process
consumes) marks the run's row `cancelled` and, once that is committed, calls
`cancel_signal`: a Redis key (`run:cancel:<runId>`, kept `RUN_CANCEL_KEY_TTL_S`) and a
message on the `runs:cancel:<db>` channel. Each process that runs something listens on that
channel from one daemon thread, started with its first watched run, and keeps the ids of
its own runs that were cancelled. The loop's drivers ask `cancel_requested` (a set
lookup, no I/O) before each model call and tool batch and between the chunks of a
streamed answer, and stop there: the provider stream is closed, no tool starts, the
stream ends with an `abort` chunk and the run stays `cancelled`.

A cancel published while the listener was (re)connecting is found by the key, which the
listener reads for the runs it watches each time it has subscribed. `RUN_CANCEL_SIGNAL`
False switches the mechanism off (the row is still marked; the run then goes on to its
end without overwriting that).
"""

from __future__ import annotations

import logging
import threading
import time

import redis
from django.conf import settings

from agents.runtime.events import CANCELLED_REASON

logger = logging.getLogger(__name__)

CHANNEL = "runs:cancel"  # and the Redis database number: channels are shared by every database

_lock = threading.Lock()
_watched: dict[str, int] = {}  # run id -> how many drivers of this process watch it
_cancelled: set[str] = set()
_listener: threading.Thread | None = None
_publisher: redis.Redis | None = None

__all__ = ["CANCELLED_REASON", "cancel_requested", "cancel_signal", "cancel_unwatch", "cancel_watch"]


def _enabled() -> bool:
    return bool(getattr(settings, "RUN_CANCEL_SIGNAL", True))


def _channel(client: redis.Redis) -> str:
    return f"{CHANNEL}:{client.connection_pool.connection_kwargs.get('db', 0)}"


def _key(run_id: str) -> str:
    return f"run:cancel:{run_id}"


def cancel_signal(*, run_id: str) -> None:
    """Ask whichever process runs `run_id` to stop it (after the row's `cancelled` is committed).
    A Redis failure is logged: the row stays cancelled and the run's outcome cannot overwrite it."""
    global _publisher  # one client per process, made on first use
    if not _enabled():
        return
    try:
        if _publisher is None:
            _publisher = redis.Redis.from_url(settings.REDIS_URL)
        with _publisher.pipeline(transaction=False) as pipe:
            pipe.set(_key(run_id), b"1", ex=int(getattr(settings, "RUN_CANCEL_KEY_TTL_S", 3600)))
            pipe.publish(_channel(_publisher), run_id)
            pipe.execute()
    except redis.RedisError:
        logger.warning("cancel signal for run %s not sent", run_id, exc_info=True)


def cancel_watch(*, run_id: str) -> None:
    """This process runs `run_id` from now on until `cancel_unwatch`."""
    if not _enabled():
        return
    with _lock:
        _watched[run_id] = _watched.get(run_id, 0) + 1
        _listener_start()


def cancel_unwatch(*, run_id: str) -> None:
    with _lock:
        left = _watched.get(run_id, 0) - 1
        if left > 0:
            _watched[run_id] = left
            return
        _watched.pop(run_id, None)
        _cancelled.discard(run_id)


def cancel_requested(run_id: str) -> bool:
    """Whether the watched run `run_id` was cancelled (no I/O)."""
    return run_id in _cancelled


def _listener_start() -> None:
    global _listener  # one listener thread per process
    if _listener is not None and _listener.is_alive():
        return
    _listener = threading.Thread(target=_listen, name="run-cancel-listener", daemon=True)
    _listener.start()


def _listen() -> None:
    """Follow the channel for ever, reconnecting after a failure (one connection per process)."""
    while True:
        try:
            client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=None, socket_keepalive=True)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(_channel(client))
            pubsub.get_message(timeout=5)  # the subscription's confirmation: from now on nothing is missed
            _catch_up(client)
            for message in pubsub.listen():
                if message.get("type") == "message":
                    _mark(message["data"].decode())
        except Exception:  # the listener must outlive any failure of Redis
            logger.warning("run cancel listener lost its connection; reconnecting", exc_info=True)
            time.sleep(1.0)


def _catch_up(client: redis.Redis) -> None:
    """Cancels published before this subscription, for the runs watched now."""
    with _lock:
        watched = list(_watched)
    if not watched:
        return
    found = client.mget([_key(run_id) for run_id in watched])
    for run_id, value in zip(watched, found, strict=True):
        if value is not None:
            _mark(run_id)


def _mark(run_id: str) -> None:
    with _lock:
        if run_id in _watched:
            _cancelled.add(run_id)
