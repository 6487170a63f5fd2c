"""A real prefork worker keeps its database connections between tasks (celery/celery#10554:
Celery's Django fixup closed Django's connection pool after every task)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from config.celery import app
from tests.core.workers import worker_queue, worker_start


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_prefork_worker_reuses_its_pooled_connection_across_tasks(settings: Any) -> None:
    queue = worker_queue("pool-test")
    proc = worker_start(
        queue,
        "--pool=prefork",
        "--concurrency=1",
        redis_url=settings.REDIS_URL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
