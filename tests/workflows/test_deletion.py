"""Deleting a thread, or a resource's data, deletes the workflow runs started for it, with
every row under them (journal, events, timers, suspensions, fan-in counters), and never
another owner's runs that name the same thread or resource id."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from core.access import Actor
from memory import services as memory
from tests.isolation.world import client_for
from workflows import services
from workflows.models import Event, FanIn, StepAttempt, Suspension, Timer, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def _suspended_run(actor: Any, *, thread_id: str = "", resource_id: str = "") -> WorkflowRun:
    run = services.run_start(
        actor=actor, workflow_id="t-suspend", input_data={"value": 1}, thread_id=thread_id
    )
    # Stored directly: a member may start runs only for its own resource now, but rows naming
    # another resource exist from before, and a tenant admin may name any.
    WorkflowRun.objects.filter(pk=run.pk).update(resource_id=resource_id)
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
    own = str(user.pk)
    memory.thread_create(tenant_id=actor.tenant_id, resource_id=own, thread_id="t-r", owner_id=user.pk)
    by_thread = _suspended_run(actor, thread_id="t-r")
    by_resource = _suspended_run(actor, resource_id=own)
    other = _suspended_run(actor, resource_id="r-2")
    memory.resource_data_delete(actor=actor, resource_id=own)
    assert not any(_rows(by_thread).values())
    assert not any(_rows(by_resource).values())
    assert _rows(other)["runs"] == 1


def test_a_member_deleting_a_thread_of_the_same_id_keeps_another_members_runs(
    user: Any, other_actor: Actor
) -> None:
    theirs = _suspended_run(other_actor, thread_id="wf-b-shared")
    client = client_for(user)
    assert client.post("/api/memory/threads", {"threadId": "wf-b-shared"}, format="json").status_code == 201
    assert client.delete("/api/memory/threads/wf-b-shared").status_code == 204
    assert all(_rows(theirs).values()), _rows(theirs)


def test_a_member_deleting_its_resource_keeps_another_members_runs_naming_it(
    actor: Actor, user: Any, other_actor: Actor
) -> None:
    own = str(user.pk)
    mine = _suspended_run(actor, resource_id=own)
    theirs = _suspended_run(other_actor, resource_id=own)
    memory.thread_create(tenant_id=actor.tenant_id, resource_id=own, thread_id="t-mine", owner_id=user.pk)
    on_my_thread = _suspended_run(actor, thread_id="t-mine")
    theirs_on_id = _suspended_run(other_actor, thread_id="t-mine")
    answer = client_for(user).delete(f"/api/memory/resources/{own}")
    assert answer.status_code == 200, answer.json()
    assert not _rows(mine)["runs"]
    assert not _rows(on_my_thread)["runs"]
    assert all(_rows(theirs).values()), _rows(theirs)
    assert all(_rows(theirs_on_id).values()), _rows(theirs_on_id)


def test_a_tenant_admin_deleting_a_resource_deletes_every_run_for_it(
    actor: Actor, other_actor: Actor
) -> None:
    mine = _suspended_run(actor, resource_id="customer-42")
    theirs = _suspended_run(other_actor, resource_id="customer-42")
    kept = _suspended_run(other_actor, resource_id="customer-43")
    memory.resource_data_delete(actor=Actor.system(tenant_id=actor.tenant_id), resource_id="customer-42")
    assert not _rows(mine)["runs"]
    assert not _rows(theirs)["runs"]
    assert _rows(kept)["runs"] == 1
