"""A real Celery worker process for the core tests, on a queue of the test's own, with the
tasks of `tests.core.worker_tasks`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def worker_queue(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def worker_start(queue: str, *options: str, redis_url: str, **popen: Any) -> subprocess.Popen[Any]:
    """`celery worker` with `options` on `queue`, on the test settings and this run's Redis,
    tasks not eager; `popen` (stdout, stderr, text) goes to `subprocess.Popen`."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", *options, "-Q", queue]
    command += ["-I", "tests.core.worker_tasks", "--without-gossip", "--without-mingle"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": redis_url}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    return subprocess.Popen(command, env=env, cwd=ROOT, **popen)  # noqa: S603 - a fixed command line
