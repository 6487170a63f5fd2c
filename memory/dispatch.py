"""Run background work on a Celery worker, or here when none answers.

Used from `transaction.on_commit` callbacks. The caller only hands the work to a
background thread, which enqueues it for a worker, or, with no worker answering
a ping, runs it in this process, so messages are embedded and documents indexed
even without a worker. With Celery eager (tests) it runs synchronously.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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


_background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="memory-background")


def dispatch(task: Any, inline: Callable[..., object], *args: Any) -> None:
    """Enqueue `task(*args)` from a background thread; without a worker, run `inline(*args)` there.

    Never on the caller's path: embedding a message on the CPU takes milliseconds
    that a chat turn should not wait for, and so does publishing to the broker
    (Celery's send path costs more than the statement that saved the message).
    With Celery eager (tests) it runs inline. `inline` is the service the task
    wraps; its failures are logged, not raised, because the caller's data is
    already committed (a periodic sweep retries, and also catches what a process
    that died before running it left behind).
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        _run(inline, *args)
        return
    _background.submit(_enqueue_or_run, task, inline, *args)


def wait_idle(timeout: float = 10.0) -> None:
    """Wait until the background work submitted so far is done (tests, benchmarks, shutdown)."""
    _background.submit(lambda: None).result(timeout=timeout)


def _enqueue_or_run(task: Any, inline: Callable[..., object], *args: Any) -> None:
    if _workers_available():
        try:
            task.delay(*args)
            return
        except Exception:
            logger.warning("enqueueing %s failed; running it here", task.name, exc_info=True)
    _run_in_thread(inline, *args)


def _run(inline: Callable[..., object], *args: Any) -> None:
    try:
        inline(*args)
    except Exception:
        logger.warning("%s failed; it will be retried", getattr(inline, "__name__", inline), exc_info=True)


def _run_in_thread(inline: Callable[..., object], *args: Any) -> None:
    from django.db import close_old_connections

    close_old_connections()
    try:
        _run(inline, *args)
    finally:
        close_old_connections()
