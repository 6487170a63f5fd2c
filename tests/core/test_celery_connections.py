"""A real prefork worker keeps its database connections between tasks (celery/celery#10554:
Celery's Django fixup closed Django's connection pool after every task)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from config.celery import app
from tests.core.workers import ROOT, worker_command, worker_env, worker_queue


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_prefork_worker_reuses_its_pooled_connection_across_tasks(settings: Any) -> None:
    queue = worker_queue("pool-test")
    proc = subprocess.Popen(  # noqa: S603 - a fixed command line
        worker_command(queue, "--pool=prefork", "--concurrency=1"),
        env=worker_env(settings.REDIS_URL),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
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
