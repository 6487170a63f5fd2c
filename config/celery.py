"""The Celery application (worker and beat)."""

from __future__ import annotations

import os
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
