"""Real Celery workers for the workflow tests (the evals tests' `WorkerProcess`, with the
workflow settings), and beat's sweep on a thread of the test process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connections

from config.celery import app as celery_app
from tests.evals.worker import WorkerProcess, wait_until

__all__ = ["Sweeper", "WorkflowWorker", "wait_until"]


class WorkflowWorker(WorkerProcess):
    def __init__(
        self,
        *,
        db_name: str,
        scripted_base_url: str,
        lease_s: float,
        env: dict[str, str] | None = None,
        concurrency: int = 1,
    ) -> None:
        super().__init__(
            db_name=db_name, scripted_base_url=scripted_base_url, lease_s=lease_s, concurrency=concurrency
        )
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "tests.workflows.worker_settings",
                "WORKFLOW_LEASE_S": str(lease_s),
                **(env or {}),
            }
        )


class Sweeper(threading.Thread):
    """What beat does every WORKFLOW_SWEEP_EVERY_S: `runs_sweep()`, here every 0.3 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stopped = threading.Event()

    def run(self) -> None:
        from workflows.sweeps import runs_sweep

        try:
            while not self.stopped.wait(0.3):
                runs_sweep()
        finally:
            connections.close_all()


@pytest.fixture
def broker(settings: Any) -> Iterator[None]:
    """Tasks leave this process for this run's Redis database (emptied first)."""
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def sweeper(broker: None, settings: Any) -> Iterator[Sweeper]:
    settings.WORKFLOW_LEASE_S = 2.0  # as the workers' (tests/workflows/worker_settings.py)
    thread = Sweeper()
    thread.start()
    yield thread
    thread.stopped.set()
    thread.join(5)


@pytest.fixture
def workers(openai_server: Any, broker: None) -> Iterator[Any]:
    from django.db import connection

    started: list[WorkflowWorker] = []

    def start(concurrency: int = 1, lease_s: float = 2.0, **env: str) -> WorkflowWorker:
        worker = WorkflowWorker(
            db_name=connection.settings_dict["NAME"],
            scripted_base_url=openai_server.base_url,
            lease_s=lease_s,
            env=env,
            concurrency=concurrency,
        )
        worker.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
