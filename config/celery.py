"""The Celery application (worker and beat)."""

from __future__ import annotations

import os
import threading
from typing import Any

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.main")

app = Celery("agent_platform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def periodic(name: str, task: str, *, every_s: float, kwargs: dict[str, Any] | None = None) -> None:
    """Register a periodic task (called from an app's AppConfig.ready())."""
    app.conf.beat_schedule = {
        **(app.conf.beat_schedule or {}),
        name: {"task": task, "schedule": every_s, "kwargs": kwargs or {}},
    }


@signals.setup_logging.connect
def _logging(loglevel: str | int | None = None, **kwargs: Any) -> None:
    """Worker and beat log through the product's handlers (every one redacts secrets).

    A receiver of this signal stops Celery from replacing the root logger's handlers
    with its own, which have no redacting filter (`worker_hijack_root_logger`). Celery
    then leaves stdout alone too: it is sent to the logger here, so a stray `print`
    is scrubbed like any log line.
    """
    from celery.utils.log import get_logger

    from observability.logging import logging_configure

    logging_configure(loglevel)
    if app.conf.worker_redirect_stdouts:
        app.log.redirect_stdouts_to_logger(
            get_logger("celery.redirected"), loglevel=app.conf.worker_redirect_stdouts_level
        )


@signals.task_prerun.connect
@signals.task_postrun.connect
def _connections_release(sender: Any = None, **kwargs: Any) -> None:
    """Hand the task's database connections back to the pool (or close the unusable ones),
    as Django does around a request; the pool itself stays open (`CELERY_DB_REUSE_MAX`)."""
    if sender is not None and getattr(sender.request, "is_eager", False):
        return  # an eager task runs inside its caller's connection and transaction
    from core.db import release_connections

    release_connections()


@signals.task_postrun.connect
def _write_records(**kwargs: Any) -> None:
    """A task's run records are on disk when the task ends: a worker child may exit at
    any time after (`os._exit`, no atexit), and a task is not waiting on latency."""
    from core.writebehind import writer

    if writer.pending:
        writer.flush(timeout=30.0)


@signals.worker_process_init.connect
def _warm_embedder(**kwargs: Any) -> threading.Thread | None:
    """Load the embedder in each worker process before its first task needs it.

    The local model takes seconds to load; in the background, so the child still reports
    ready at once (Celery waits only a few seconds for it), and a task that needs the
    embedder meanwhile waits for the same load instead of starting another.
    """
    from django.conf import settings

    from memory.embedders import embedder_warm_up

    if not settings.EMBEDDER_PRELOAD:
        return None
    thread = threading.Thread(target=embedder_warm_up, name="embedder-warm-up", daemon=True)
    thread.start()
    return thread
