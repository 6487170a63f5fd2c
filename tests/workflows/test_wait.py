"""`start-async` and `resume-async` wait for the run without holding a database connection."""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import pytest
from django.conf import settings
from django.db import connections

from core.access import Actor
from tests.db_pool import checked_out
from workflows import services
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_waiting_clients_hold_no_connection_between_polls(actor: Actor) -> None:
    run = services.run_create(actor=actor, workflow_id="t-sequence")
    WorkflowRun.objects.filter(pk=run.pk).update(status=WorkflowRun.Status.RUNNING)  # it never ends
    waiters = int(settings.DB_POOL_MAX_SIZE) + 2  # more than the pool has connections
    started = threading.Barrier(waiters + 1)
    seen: list[Any] = []

    def wait() -> None:
        try:
            started.wait()
            seen.append(services.run_wait(run=WorkflowRun.objects.get(pk=run.pk), timeout_s=1.5).status)
        except Exception as exc:
            seen.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wait) for _ in range(waiters)]
    for thread in threads:
        thread.start()
    started.wait()
    time.sleep(0.3)  # every waiter in its polling loop
    samples = []
    for _ in range(10):
        samples.append(checked_out() or 0)
        time.sleep(0.05)
    for thread in threads:
        thread.join(30)
    # A waiter holds a connection only for its poll's one query, not for the whole wait (it
    # did: a dozen clients waiting on a slow run then took every connection of the process).
    # The waiters poll in step, so a sample may fall on a poll: the typical sample decides.
    assert statistics.median(samples) < int(settings.DB_POOL_MAX_SIZE) // 2, samples
    assert seen == [WorkflowRun.Status.RUNNING] * waiters  # each waited its time out, none failed
