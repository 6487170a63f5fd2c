"""The command line and environment of a real Celery worker process for the core tests, on
a queue of the test's own, with the tasks of `tests.core.worker_tasks`."""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def worker_queue(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def worker_command(queue: str, *options: str) -> list[str]:
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", *options, "-Q", queue]
    return [*command, "-I", "tests.core.worker_tasks", "--without-gossip", "--without-mingle"]


def worker_env(redis_url: str) -> dict[str, str]:
    """This process's environment on the test settings and this run's Redis, tasks not eager."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": redis_url}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return env
