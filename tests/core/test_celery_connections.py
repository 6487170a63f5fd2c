"""A real prefork worker keeps its database connections between tasks (celery/celery#10554:
Celery's Django fixup closed Django's connection pool after every task)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from config.celery import app


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_prefork_worker_reuses_its_pooled_connection_across_tasks(settings: Any) -> None:
    queue = f"pool-test-{uuid.uuid4().hex[:12]}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "REDIS_URL": settings.REDIS_URL}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1"]
    command += ["-Q", queue, "-I", "tests.core.worker_tasks", "--without-gossip", "--without-mingle"]
    proc = subprocess.Popen(  # noqa: S603 - a fixed command line
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        pids = [app.send_task("tests.backend_pid", queue=queue).get(timeout=90) for _ in range(8)]
    finally:
        proc.terminate()
        proc.wait(30)
    # The pool's few connections serve every task in turn (it hands out the one idle longest);
    # a pool closed after each task would give every task a new server process.
    assert set(pids[4:]) <= set(pids[:4]), pids
    assert len(set(pids)) <= settings.DB_POOL_MAX_SIZE, pids
