"""Workflow services: start, resume, cancel, restart. Services write.

Each takes an `Actor` (core/access.py) and a run reached through `workflows.selectors`, so
another owner's run is a 404 before anything changes. The engine itself lives in
`workflows.engine`; a service only changes rows and asks, after commit, for the run to advance.
The beat sweep and the deletion of a thread's runs are in `workflows.sweeps`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel, ValidationError

from core.access import Actor
from core.db import release_connections
from core.errors import Disabled, NotFound, PayloadTooLarge, ValidationFailed
from memory.services import memory_resource_for
from workflows import selectors
from workflows.approvals import gates_close
from workflows.definition import Step, Workflow
from workflows.engine import store
from workflows.engine.execute import json_size
from workflows.errors import RunConflict, SuspensionConflict, TooManyRuns
from workflows.models import StepAttempt, Suspension, Timer, WorkflowDefinition, WorkflowRun
from workflows.registry import DefinitionChanged, registry
from workflows.steps import agent_runs_cancelled

Status = WorkflowRun.Status


def advance_after_commit(run_id: uuid.UUID) -> None:
    """Ask, once the transaction commits, for the run to advance (any worker may take it)."""
    from workflows.tasks import run_advance

    transaction.on_commit(lambda: run_advance.delay(str(run_id)))


def _field_errors(exc: ValidationError, prefix: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in exc.errors(include_url=False):
        where = ".".join([prefix, *(str(p) for p in item["loc"])])
        errors.setdefault(where, []).append(item["msg"])
    return errors


def _validated(model: type[BaseModel], data: Any, field: str) -> Any:
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ValidationFailed(
            f"{field} does not match its schema.", details=_field_errors(exc, field)
        ) from exc


def definitions_sync() -> list[str]:
    """Write every registered workflow version to the admin's list; unregistered ones are marked."""
    seen: list[int] = []
    for workflow in registry.all_versions():
        row, _ = WorkflowDefinition.objects.update_or_create(
            workflow_id=workflow.id,
            version=workflow.version,
            defaults={
                "graph_hash": workflow.graph_hash,
                "description": workflow.description,
                "steps": [s.id for s in workflow.steps()],
                "registered": True,
            },
        )
        seen.append(row.pk)
    WorkflowDefinition.objects.exclude(pk__in=seen).update(registered=False)
    return [w.id for w in registry.all_versions()]


def definition_set_enabled(*, workflow_id: str, enabled: bool) -> int:
    return WorkflowDefinition.objects.filter(workflow_id=workflow_id).update(enabled=enabled)


def workflow_enabled(workflow_id: str) -> bool:
    return not WorkflowDefinition.objects.filter(workflow_id=workflow_id, enabled=False).exists()


def workflow_for_start(workflow_id: str) -> Workflow:
    workflow = registry.latest(workflow_id)
    if workflow is None:
        raise NotFound(f"Workflow {workflow_id!r} does not exist.")
    if not workflow_enabled(workflow_id):
        raise Disabled(f"Workflow {workflow_id!r} is switched off.")
    return workflow


def run_resource_for(*, actor: Actor, resource_id: str) -> str:
    """The memory resource a run is for: none, or one the actor may act for (its own user id,
    or any of the tenant's for a tenant admin). Another resource raises NotFound, as memory
    answers it (docs/security.md)."""
    return memory_resource_for(actor=actor, requested=resource_id) if resource_id else ""


def run_create(
    *,
    actor: Actor,
    workflow_id: str,
    run_id: uuid.UUID | None = None,
    resource_id: str = "",
    thread_id: str = "",
) -> WorkflowRun:
    """A run that exists but has not started (`create-run`): its id can be watched at once.

    A `run_id` already used answers as Mastra's createRun does: the caller's own run of this
    workflow is returned as it stands (nothing changes); any other run is "not found", as
    everywhere else, so the answer never says that another owner's run exists.
    """
    resource_id = run_resource_for(actor=actor, resource_id=resource_id)
    workflow = workflow_for_start(workflow_id)
    if run_id is not None and WorkflowRun.objects.filter(pk=run_id).exists():
        return selectors.run_get(actor=actor, run_id=run_id, workflow_id=workflow.id)
    try:
        with transaction.atomic():
            return WorkflowRun.objects.create(
                id=run_id or uuid.uuid4(),
                tenant_id=actor.tenant_id,
                owner_id=actor.user_id,
                workflow_id=workflow.id,
                version=workflow.version,
                graph_hash=workflow.graph_hash,
                resource_id=resource_id,
                thread_id=thread_id,
            )
    except IntegrityError as exc:
        if run_id is None:
            raise RunConflict("A run with this id exists.") from exc
        # Created by a concurrent request since the check above: answered as above.
        return selectors.run_get(actor=actor, run_id=run_id, workflow_id=workflow.id)


def run_start(
    *,
    actor: Actor,
    workflow_id: str,
    input_data: Any,
    run: WorkflowRun | None = None,
    run_id: uuid.UUID | None = None,
    request_context: dict[str, Any] | None = None,
    resource_id: str = "",
    thread_id: str = "",
    concurrency_key: str = "",
) -> WorkflowRun:
    """Validate the input and queue the run (a created `run` of the caller's, or a new one).

    Backpressure: `concurrency_key` allows one active run per workflow and key (409 otherwise),
    and a tenant with WORKFLOW_MAX_ACTIVE_RUNS pending or running runs is answered 429.
    A `resource_id` the actor may not act for is "not found" (`run_resource_for`).
    """
    resource_id = run_resource_for(actor=actor, resource_id=resource_id)
    workflow = (
        workflow_for_start(workflow_id)
        if run is None
        else registry.resolve(run.workflow_id, run.version, run.graph_hash)
    )
    if json_size(input_data) > int(settings.WORKFLOW_MAX_STEP_BYTES):
        raise PayloadTooLarge(f"inputData is larger than {settings.WORKFLOW_MAX_STEP_BYTES} bytes.")
    data = _validated(workflow.input_model, input_data, "inputData")
    active = WorkflowRun.objects.filter(
        tenant_id=actor.tenant_id, status__in=[Status.PENDING, Status.RUNNING]
    )
    if active.count() >= int(settings.WORKFLOW_MAX_ACTIVE_RUNS):
        raise TooManyRuns()
    context = {"values": dict(request_context or {})}
    try:
        with transaction.atomic():
            if run is None:
                run = WorkflowRun(
                    id=run_id or uuid.uuid4(),
                    tenant_id=actor.tenant_id,
                    owner_id=actor.user_id,
                    workflow_id=workflow.id,
                    version=workflow.version,
                    graph_hash=workflow.graph_hash,
                    resource_id=resource_id,
                    thread_id=thread_id,
                )
            else:
                run = WorkflowRun.objects.select_for_update().get(pk=run.pk)
                if run.status != Status.CREATED:
                    raise RunConflict("The run has already started.", details={"status": run.status})
            run.status = Status.PENDING
            run.input = data
            run.request_context = context
            run.concurrency_key = concurrency_key
            run.started_at = timezone.now()
            run.save()
            store.event_append(run, "workflow-start", data={"input": data, "version": run.version})
            advance_after_commit(run.pk)
    except IntegrityError as exc:
        other = (
            WorkflowRun.objects.filter(
                tenant_id=actor.tenant_id,
                workflow_id=workflow.id,
                concurrency_key=concurrency_key,
                status__in=WorkflowRun.ACTIVE,
            )
            .exclude(concurrency_key="")
            .first()
        )
        if other is not None:
            raise RunConflict(
                "A run of this workflow is already active for this concurrency key.",
                details={
                    "concurrencyKey": concurrency_key,
                    "activeRunId": str(other.pk) if actor.may_manage(other.owner_id) else None,
                },
            ) from exc
        if run_id is not None:  # created by a concurrent request: another owner's is "not found"
            selectors.run_get(actor=actor, run_id=run_id, workflow_id=workflow.id)
        raise RunConflict("A run with this id exists.") from exc
    return run


def _definition(run: WorkflowRun) -> Workflow:
    try:
        return registry.resolve(run.workflow_id, run.version, run.graph_hash)
    except DefinitionChanged as exc:
        raise RunConflict(str(exc), details={"code": "definition_changed"}) from exc


def _step_of(run: WorkflowRun, step_id: str) -> Step | None:
    """The step's definition; None where the definition changed (the engine then fails the run)."""
    try:
        workflow = registry.resolve(run.workflow_id, run.version, run.graph_hash)
    except DefinitionChanged:
        return None
    return next((s for s in workflow.steps() if s.id == step_id), None)


def _address(run: WorkflowRun, step: str | None) -> Suspension:
    """The one open suspension `step` names: an exact path (`2:approve[1]`) or a step id."""
    suspensions = Suspension.objects.select_for_update().filter(run=run, generation=run.generation)
    if step is None:
        matching = list(suspensions.filter(status=Suspension.Status.OPEN))
    elif ":" in step:
        matching = list(suspensions.filter(path=step, status=Suspension.Status.OPEN))
    else:
        matching = list(suspensions.filter(step_id=step, status=Suspension.Status.OPEN))
    if len(matching) == 1:
        return matching[0]
    if len(matching) > 1:
        raise SuspensionConflict(
            "More than one suspension matches; name one by its path.",
            details={"paths": [s.path for s in matching]},
        )
    if (
        step is not None
        and suspensions.filter(Q(path=step) | Q(step_id=step), status=Suspension.Status.RESUMED).exists()
    ):
        raise SuspensionConflict("That suspension was already resumed.", details={"step": step})
    open_paths = list(suspensions.filter(status=Suspension.Status.OPEN).values_list("path", flat=True))
    raise SuspensionConflict(
        "No open suspension matches that step.", details={"step": step, "suspended": open_paths}
    )


def _resume_data(run: WorkflowRun, suspension: Suspension, resume_data: Any) -> Any:
    definition = _step_of(run, suspension.step_id)
    if definition is not None and definition.resume_schema is not None:
        return _validated(definition.resume_schema, resume_data, "resumeData")
    if json_size(resume_data) > int(settings.WORKFLOW_MAX_STEP_BYTES):
        raise PayloadTooLarge("resumeData is too large.")
    return resume_data


def _resume_one(*, actor: Actor | None, run: WorkflowRun, suspension: Suspension, resume_data: Any) -> None:
    data = _resume_data(run, suspension, resume_data)
    suspension.status = Suspension.Status.RESUMED
    suspension.resume_data = data
    suspension.resumed_by_id = actor.user_id if actor is not None else None
    suspension.resumed_at = timezone.now()
    suspension.save(update_fields=["status", "resume_data", "resumed_by", "resumed_at"])
    store.event_append(
        run, "workflow-step-resumed", path=suspension.path, data={"stepId": suspension.step_id}
    )


def _locked_active(run: WorkflowRun) -> WorkflowRun:
    locked = WorkflowRun.objects.select_for_update().get(pk=run.pk)
    if locked.is_terminal or locked.status == Status.CREATED or locked.cancel_requested:
        raise RunConflict("The run is not waiting for input.", details={"status": locked.status})
    return locked


def run_resume(*, actor: Actor, run: WorkflowRun, step: str | None, resume_data: Any) -> Suspension:
    """Resume exactly one suspension (consumed once: a second resume of it is a 409).

    An approval step's suspension is decided through the runs' approval service (its gate),
    which resumes the suspension in the deciding transaction (`workflows.approvals`)."""
    with transaction.atomic():
        locked = _locked_active(run)
        suspension = _address(locked, step)
        if suspension.approval_run_id is not None:
            data = _resume_data(locked, suspension, resume_data)
        else:
            _resume_one(actor=actor, run=locked, suspension=suspension, resume_data=resume_data)
            _mark_resumed(locked)
            return suspension
    _gate_decide(actor=actor, suspension=suspension, data=data)
    suspension.refresh_from_db()
    return suspension


def run_resume_all(*, actor: Actor, run: WorkflowRun, resume_data: Any) -> list[Suspension]:
    """Resume every open suspension of the run with the same data (an explicit call of its own)."""
    gated: list[tuple[Suspension, Any]] = []
    with transaction.atomic():
        locked = _locked_active(run)
        suspensions = list(
            Suspension.objects.select_for_update().filter(
                run=locked, generation=locked.generation, status=Suspension.Status.OPEN
            )
        )
        if not suspensions:
            raise SuspensionConflict("The run has no open suspension.")
        for suspension in suspensions:
            if suspension.approval_run_id is not None:
                gated.append((suspension, _resume_data(locked, suspension, resume_data)))
            else:
                _resume_one(actor=actor, run=locked, suspension=suspension, resume_data=resume_data)
        if len(gated) < len(suspensions):
            _mark_resumed(locked)
    for suspension, data in gated:
        _gate_decide(actor=actor, suspension=suspension, data=data)
    return suspensions


def _mark_resumed(run: WorkflowRun) -> None:
    WorkflowRun.objects.filter(pk=run.pk).update(dirty=True, status=Status.RUNNING, updated_at=timezone.now())
    advance_after_commit(run.pk)


def _gate_decide(*, actor: Actor, suspension: Suspension, data: Any) -> None:
    """Decide an approval step's gate as any tool approval is decided (409 when decided before)."""
    from agents.runs.services import tool_call_decide
    from workflows.approvals import gate_of

    gate = gate_of(suspension)
    if gate is None:
        raise SuspensionConflict("The approval of this step is gone.", details={"step": suspension.path})
    tool_call_decide(
        actor=actor,
        agent_id=gate["agentId"],
        run_id=gate["runId"],
        tool_call_id=gate["toolCallId"],
        approve=bool(data.get("approved")),
        reason=str(data.get("reason") or ""),
    )


def suspension_resume_locked(
    *, run_id: uuid.UUID, suspension_id: int, resume_data: Any, user_id: int | None
) -> bool:
    """Resume one suspension from a decision made elsewhere (an approval gate), in the caller's
    transaction; False when the run no longer waits on it (cancelled, restarted, finished)."""
    run = WorkflowRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.is_terminal or run.cancel_requested:
        return False
    suspension = (
        Suspension.objects.select_for_update()
        .filter(pk=suspension_id, run=run, generation=run.generation, status=Suspension.Status.OPEN)
        .first()
    )
    if suspension is None:
        return False
    suspension.status = Suspension.Status.RESUMED
    suspension.resume_data = _resume_data(run, suspension, resume_data)
    suspension.resumed_by_id = user_id
    suspension.resumed_at = timezone.now()
    suspension.save(update_fields=["status", "resume_data", "resumed_by", "resumed_at"])
    store.event_append(
        run, "workflow-step-resumed", path=suspension.path, data={"stepId": suspension.step_id}
    )
    _mark_resumed(run)
    return True


def run_cancel(*, actor: Actor, run: WorkflowRun) -> WorkflowRun:
    """Cancel cooperatively: a run a worker holds stops after its running steps (which see
    `ctx.cancelled`), nested workflows' steps included; any other run ends now. Agent runs
    started by its agent steps that are still running are marked `cancelled`, and an agent
    step waiting on a model call stops waiting."""
    with transaction.atomic():
        locked = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if locked.is_terminal:
            return locked
        locked.cancel_requested = True
        locked.save(update_fields=["cancel_requested", "updated_at"])
        leased = locked.lease_expires_at is not None and locked.lease_expires_at > timezone.now()
        if leased:
            store.event_append(locked, "workflow-cancel-requested")
        else:
            store.run_finish(locked, Status.CANCELED)
        # The agent runs its agent steps started are marked now; the step in a model call
        # drops it when its keeper sees the cancel (`workflows.steps.agent_generate`).
        agent_runs_cancelled(tenant_id=locked.tenant_id, idempotency_key=f"{locked.pk}:")
    return locked


def run_restart(*, actor: Actor, run: WorkflowRun, step: str) -> WorkflowRun:
    """Run again from a top-level step (time travel): the steps before it keep their stored
    results (carried into a new generation of the journal), the step runs on its stored input."""
    with transaction.atomic():
        locked = WorkflowRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == Status.CREATED:
            raise RunConflict("The run has not started.")
        if locked.lease_expires_at is not None and locked.lease_expires_at > timezone.now():
            raise RunConflict("A worker is running this run; cancel it or wait for it to stop.")
        workflow = _definition(locked)
        index = next(
            (i for i, node in enumerate(workflow.nodes) if step in (node.id, f"{i}:{node.id}")), None
        )
        if index is None:
            raise ValidationFailed(
                "step names no top-level step of this workflow.",
                details={"step": [f"One of {[f'{i}:{n.id}' for i, n in enumerate(workflow.nodes)]}."]},
            )
        carried = [
            row
            for row in StepAttempt.objects.filter(
                run=locked,
                generation=locked.generation,
                status__in=[StepAttempt.Status.SUCCESS, StepAttempt.Status.CARRIED],
            ).order_by("id")
            if int(row.path.split(":", 1)[0]) < index
        ]
        Suspension.objects.filter(run=locked, status=Suspension.Status.OPEN).update(
            status=Suspension.Status.CANCELED
        )
        gates_close(locked, reason="the workflow run was restarted")
        Timer.objects.filter(run=locked, fired_at__isnull=True).delete()
        locked.generation += 1
        state: dict[str, Any] = {}
        for row in carried:
            StepAttempt.objects.create(
                run=locked,
                generation=locked.generation,
                path=row.path,
                step_id=row.step_id,
                number=row.number,
                run_attempt=row.run_attempt,
                status=StepAttempt.Status.CARRIED,
                input=row.input,
                output=row.output,
                state_patch=row.state_patch,
                finished_at=row.finished_at,
            )
            state.update(row.state_patch or {})
        locked.state = state
        locked.status = Status.PENDING
        locked.output = None
        locked.error = None
        locked.finished_at = None
        locked.cancel_requested = False
        locked.dirty = True
        locked.save()
        store.event_append(
            locked,
            "workflow-start",
            data={"restartFrom": f"{index}:{workflow.nodes[index].id}", "generation": locked.generation},
        )
        advance_after_commit(locked.pk)
    return locked


def run_wait(*, run: WorkflowRun, timeout_s: float | None = None) -> WorkflowRun:
    """Poll until the run stops (finished, failed, cancelled or suspended) or the wait runs out.

    Between polls the connection goes back to the pool: clients waiting on slow runs
    (`start-async`, `resume-async`) would otherwise hold every connection of the process."""
    deadline = time.monotonic() + (float(settings.WORKFLOW_SYNC_WAIT_S) if timeout_s is None else timeout_s)
    moving = (Status.CREATED, Status.PENDING, Status.RUNNING, Status.WAITING)
    while True:
        run.refresh_from_db()
        if run.status not in moving or time.monotonic() >= deadline:
            return run
        release_connections()
        time.sleep(0.05)
