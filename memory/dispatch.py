"""Run background work on a Celery worker, or here when none answers.

Used from `transaction.on_commit` callbacks. With Celery eager (tests) or no
worker answering a ping, the work runs synchronously in this process, so
messages are embedded and documents indexed even without a worker.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

_WORKER_CHECK_TTL_S = 30.0
_last_check: tuple[float, bool] | None = None
_refreshing = threading.Lock()


def _ping() -> bool:
    try:
        from config.celery import app

        return bool(app.control.ping(timeout=0.5))
    except Exception:  # broker down: no worker
        return False


def _refresh() -> None:
    global _last_check
    try:
        _last_check = (time.monotonic(), _ping())
    finally:
        _refreshing.release()


def _workers_available() -> bool:
    """Whether a Celery worker answered recently.

    The first call in a process pings (up to 0.5 s); later, a stale answer is used
    while a background thread refreshes it, so requests never wait on the ping.
    """
    global _last_check
    if _last_check is None:
        _last_check = (time.monotonic(), _ping())
    checked_at, available = _last_check
    if time.monotonic() - checked_at > _WORKER_CHECK_TTL_S and _refreshing.acquire(blocking=False):
        threading.Thread(target=_refresh, name="celery-worker-check", daemon=True).start()
    return available


def dispatch(task: Any, inline: Callable[..., object], *args: Any) -> None:
    """Enqueue `task(*args)`; without an answering worker, call `inline(*args)` here.

    `inline` is the service the task wraps; its failures are logged, not raised,
    because the caller's data is already committed (a periodic sweep retries).
    """
    if not settings.CELERY_TASK_ALWAYS_EAGER and _workers_available():
        try:
            task.delay(*args)
            return
        except Exception:
            logger.warning("enqueueing %s failed; running it inline", task.name, exc_info=True)
    try:
        inline(*args)
    except Exception:
        logger.warning(
            "inline %s failed; it will be retried", getattr(inline, "__name__", inline), exc_info=True
        )
