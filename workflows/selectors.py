"""Workflow selectors: reads, through the owner model (another owner's run is a 404)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from core.access import Actor, owned
from core.errors import NotFound
from workflows.definition import Workflow
from workflows.models import Event, WorkflowRun
from workflows.registry import registry


def workflow_get(*, workflow_id: str) -> Workflow:
    workflow = registry.latest(workflow_id)
    if workflow is None:
        raise NotFound(f"Workflow {workflow_id!r} does not exist.")
    return workflow


def workflow_list() -> list[Workflow]:
    return registry.all_latest()


def run_get(*, actor: Actor, run_id: uuid.UUID, workflow_id: str | None = None) -> WorkflowRun:
    runs = owned(WorkflowRun.objects.all(), actor)
    if workflow_id is not None:
        runs = runs.filter(workflow_id=workflow_id)
    run = runs.filter(pk=run_id).first()
    if run is None:
        raise NotFound("Workflow run not found.")
    return run


def run_list(
    *,
    actor: Actor,
    workflow_id: str,
    status: str | None = None,
    resource_id: str | None = None,
    from_date: datetime | None = None,
    to_date: datetime | None = None,
) -> QuerySet[WorkflowRun]:
    runs = owned(WorkflowRun.objects.filter(workflow_id=workflow_id), actor)
    filters: dict[str, Any] = {}
    if status:
        filters["status"] = status
    if resource_id:
        filters["resource_id"] = resource_id
    if from_date:
        filters["created_at__gte"] = from_date
    if to_date:
        filters["created_at__lte"] = to_date
    return runs.filter(**filters).order_by("-created_at")


def events_after(*, run: WorkflowRun, offset: int, limit: int = 500) -> list[Event]:
    """The run's events numbered above `offset`, in order."""
    return list(Event.objects.filter(run=run, seq__gt=offset).order_by("seq")[:limit])


def run_steps(run: WorkflowRun) -> dict[str, Any]:
    """Each step path's latest attempt in the run's generation, as Mastra's `steps` map shows it."""
    steps: dict[str, Any] = {}
    for row in run.attempts.filter(generation=run.generation).order_by("id"):
        steps[row.path] = {
            "stepId": row.step_id,
            "status": row.status,
            "attempt": row.number,
            "input": row.input,
            "output": row.output if row.status in ("success", "carried") else None,
            "suspendPayload": row.output if row.status == "suspended" else None,
            "error": row.error,
            "startedAt": row.started_at,
            "endedAt": row.finished_at,
        }
    for suspension in run.suspensions.filter(generation=run.generation, status="open"):
        steps.setdefault(suspension.path, {})["status"] = "suspended"
        steps[suspension.path]["suspendPayload"] = suspension.payload
    return steps
