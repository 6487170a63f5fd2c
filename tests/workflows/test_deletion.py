"""Deleting a thread, or a resource's data, deletes the workflow runs started for it, with
every row under them (journal, events, timers, suspensions, fan-in counters)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from memory import services as memory
from workflows import services
from workflows.models import Event, FanIn, StepAttempt, Suspension, Timer, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def _suspended_run(actor: Any, *, thread_id: str = "", resource_id: str = "") -> WorkflowRun:
    run = services.run_start(
        actor=actor,
        workflow_id="t-suspend",
        input_data={"value": 1},
        thread_id=thread_id,
        resource_id=resource_id,
    )
    run.refresh_from_db()
    assert run.status == "suspended", run.error
    Timer.objects.create(run=run, path="9:later", kind="sleep", wake_at=timezone.now() + timedelta(hours=1))
    FanIn.objects.create(run=run, path="9:join", expected=2)
    return run


def _rows(run: WorkflowRun) -> dict[str, int]:
    return {
        "runs": WorkflowRun.objects.filter(pk=run.pk).count(),
        "attempts": StepAttempt.objects.filter(run_id=run.pk).count(),
        "events": Event.objects.filter(run_id=run.pk).count(),
        "timers": Timer.objects.filter(run_id=run.pk).count(),
        "suspensions": Suspension.objects.filter(run_id=run.pk).count(),
        "fan_ins": FanIn.objects.filter(run_id=run.pk).count(),
    }


def test_deleting_a_thread_deletes_its_workflow_runs(actor: Any, user: Any) -> None:
    memory.thread_create(
        tenant_id=actor.tenant_id, resource_id=str(user.pk), thread_id="t-1", owner_id=user.pk
    )
    doomed = _suspended_run(actor, thread_id="t-1")
    kept = _suspended_run(actor, thread_id="t-2")
    assert all(_rows(doomed).values())
    memory.thread_delete(tenant_id=actor.tenant_id, thread_id="t-1")
    assert not any(_rows(doomed).values()), _rows(doomed)
    assert _rows(kept)["runs"] == 1


def test_deleting_a_resources_data_deletes_its_workflow_runs(actor: Any, user: Any) -> None:
    memory.thread_create(tenant_id=actor.tenant_id, resource_id="r-1", thread_id="t-r", owner_id=user.pk)
    by_thread = _suspended_run(actor, thread_id="t-r")
    by_resource = _suspended_run(actor, resource_id="r-1")
    other = _suspended_run(actor, resource_id="r-2")
    memory.resource_data_delete(tenant_id=actor.tenant_id, resource_id="r-1")
    assert not any(_rows(by_thread).values())
    assert not any(_rows(by_resource).values())
    assert _rows(other)["runs"] == 1
