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
