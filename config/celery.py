"""The Celery application (worker and beat)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

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
