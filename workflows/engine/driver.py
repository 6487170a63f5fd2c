"""The driver: claim a run, walk its plan, run its steps, commit each result, repeat.

A Celery message says only "advance run R" (`workflows.tasks.run_advance`). The worker that
claims R holds its lease while it works, refreshes it from a keeper thread, and commits every
step's journal row together with the run's progress, fenced by its claim. When nothing is left
to run (a suspension, a timer far away) it releases the lease in the same transaction in
which it found nothing, so a resume that commits after it is never missed.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.utils import timezone

from core.context import RequestContext
from workflows import approvals, artifacts
from workflows.context import StepContext
from workflows.engine import store
from workflows.engine.execute import Outcome, StepTimeout, error_of, step_call
from workflows.engine.plan import Execute, Plan, plan_run
from workflows.models import StepAttempt, Suspension, Timer, WorkflowRun
from workflows.registry import DefinitionChanged, registry

logger = logging.getLogger(__name__)
Status = WorkflowRun.Status


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class LeaseKeeper(threading.Thread):
    """Refreshes the lease every third of its length; notices a lost lease or a cancel request."""

    def __init__(self, *, run_id: uuid.UUID, attempt: int, lease_s: float) -> None:
        super().__init__(name=f"workflow-lease-{run_id}", daemon=True)
        self.run_id, self.attempt, self.lease_s = run_id, attempt, lease_s
        self.stopped = threading.Event()
        self.lost = threading.Event()
        self.cancel = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.lease_s / 3):
                try:
                    held, cancel = store.lease_refresh(
                        run_id=self.run_id, attempt=self.attempt, lease_s=self.lease_s
                    )
                except DatabaseError:
                    logger.warning("workflow lease refresh failed for run %s", self.run_id)
                    continue
                if cancel:
                    self.cancel.set()
                if not held:
                    self.lost.set()
                    self.cancel.set()
                    return
        finally:
            connections.close_all()

    def stop(self) -> None:
        self.stopped.set()


# The run row each claim's last planning transaction read, for the context of the steps it
# started (this process's own claims; a thread holds one run at a time).
_planned: dict[uuid.UUID, WorkflowRun] = {}


@dataclass
class _InFlight:
    execute: Execute
    row_id: int
    ctx: StepContext
    cancel: threading.Event
    deadline: float | None


def run_advance(run_id: uuid.UUID | str) -> str:
    """Advance the run as far as it goes now; returns what it came to (for logs and tests)."""
    lease_s = float(settings.WORKFLOW_LEASE_S)
    run = store.run_claim(run_id=run_id, owner=_owner(), lease_s=lease_s)
    if run is None:
        return "not-claimed"
    keeper = LeaseKeeper(run_id=run.pk, attempt=run.attempt, lease_s=lease_s)
    keeper.start()
    try:
        return _loop(run.pk, run.attempt, keeper)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the lease runs out and the sweep hands the run on
    except Exception as exc:
        logger.exception("workflow engine error on run %s", run_id)
        with transaction.atomic():
            locked = store.run_lock(run_id=run.pk, attempt=run.attempt)
            if locked is not None and not locked.is_terminal:
                store.run_finish(locked, Status.FAILED, error=error_of(exc, "engine_error"))
        return "failed"
    finally:
        keeper.stop()


def _loop(run_id: uuid.UUID, attempt: int, keeper: LeaseKeeper) -> str:
    done: tuple[_InFlight, Outcome] | None = None
    while True:
        if keeper.lost.is_set():
            return "lease-lost"
        step = _plan_step(run_id, attempt, done)
        done = None
        if isinstance(step, str):
            return step
        executes, wait_until = step
        if executes:
            done = _run_batch(run_id, attempt, executes, keeper)
        elif wait_until is not None:
            _wait_inline(run_id, attempt, wait_until, keeper)


def _plan_step(
    run_id: uuid.UUID, attempt: int, done: tuple[_InFlight, Outcome] | None = None
) -> str | tuple[list[tuple[Execute, int]], float | None]:
    """One planning transaction: finish the run, release it, or start the next batch of steps.

    `done` is the result of a lone step, committed in this same transaction (one commit a
    step in a sequence instead of two)."""
    now = timezone.now()
    with transaction.atomic():
        run = store.run_lock(run_id=run_id, attempt=attempt)
        if run is None:
            return "lease-lost"
        if done is not None:
            _apply(run, *done, persist=False)
        if run.cancel_requested:
            store.run_finish(run, Status.CANCELED)
            return "canceled"
        run.dirty = False
        try:
            workflow = registry.resolve(run.workflow_id, run.version, run.graph_hash)
        except DefinitionChanged as exc:
            store.run_finish(run, Status.FAILED, error=error_of(exc, "definition_changed"))
            return "failed"
        plan = plan_run(workflow, run.input, store.journal_load(run), now=now)
        store.joins_record(run, plan.joins)
        if plan.failure is not None:
            store.run_finish(run, Status.FAILED, error={**plan.failure.error, "path": plan.failure.path})
            return "failed"
        if plan.done:
            return _finish_success(run, workflow.output_model, plan)
        for sleep in plan.sleeps:
            Timer.objects.create(
                run=run,
                generation=run.generation,
                path=sleep.path,
                kind=Timer.Kind.SLEEP,
                wake_at=sleep.wake_at,
                data=sleep.data,
            )
            store.event_append(
                run, "workflow-step-waiting", path=sleep.path, data={"wakeAt": sleep.wake_at.isoformat()}
            )
        if plan.execute:
            return _start_batch(run, plan), None
        result = _idle(run, plan, now)
        store.events_flush(run)
        return result


def _finish_success(run: WorkflowRun, output_model: Any, plan: Plan) -> str:
    if artifacts.storage_configured() and artifacts.has_ref(plan.output):
        # A stored output was validated by its step; the run's output keeps the reference.
        store.run_finish(run, Status.SUCCESS, output=plan.output)
        return "success"
    try:
        output = output_model.model_validate(plan.output).model_dump(mode="json")
    except Exception as exc:
        store.run_finish(run, Status.FAILED, error=error_of(exc, "output_invalid"))
        return "failed"
    store.run_finish(run, Status.SUCCESS, output=output)
    return "success"


def _start_batch(run: WorkflowRun, plan: Plan) -> list[tuple[Execute, int]]:
    for execute in plan.execute:
        store.event_append(
            run,
            "workflow-step-start",
            path=execute.path,
            data={"stepId": execute.step.id, "attempt": execute.number, "input": execute.input},
            persist=False,  # inserted with the attempts below
        )
    ids = store.batch_start(run, plan.execute)
    _planned[run.pk] = run  # the steps' context comes from this row: no second read
    return [(execute, ids[execute.path]) for execute in plan.execute]


def _idle(run: WorkflowRun, plan: Plan, now: Any) -> str | tuple[list[tuple[Execute, int]], float | None]:
    """Nothing to run now: wait here for a timer that is near, or release the run."""
    due = (
        Timer.objects.filter(run=run, fired_at__isnull=True)
        .order_by("wake_at")
        .values_list("wake_at", flat=True)
        .first()
    )
    status = Status.WAITING if due is not None else Status.SUSPENDED if plan.suspended else Status.WAITING
    if due is not None and (due - now).total_seconds() <= float(settings.WORKFLOW_INLINE_WAIT_S):
        if run.status != status:
            run.status = status
        run.save(update_fields=["status", "dirty", "event_seq", "updated_at"])
        return [], time.monotonic() + max(0.0, (due - now).total_seconds())
    run.status = status
    run.lease_owner = ""
    run.lease_expires_at = None
    run.save(update_fields=["status", "lease_owner", "lease_expires_at", "dirty", "event_seq", "updated_at"])
    return status


def _wait_inline(run_id: uuid.UUID, attempt: int, until: float, keeper: LeaseKeeper) -> None:
    """Sleep to a near timer while holding the lease, then fire the run's due timers."""
    while time.monotonic() < until and not keeper.cancel.is_set():
        time.sleep(min(0.05, max(0.0, until - time.monotonic())))
    now = timezone.now()
    with transaction.atomic():
        run = store.run_lock(run_id=run_id, attempt=attempt)
        if run is None:
            return
        for timer in Timer.objects.filter(run=run, fired_at__isnull=True, wake_at__lte=now):
            store.timer_fire(timer, now=now)


def _writer(run_id: uuid.UUID, attempt: int, path: str) -> Any:
    def write(data: Any) -> None:
        try:
            with transaction.atomic():
                run = store.run_lock(run_id=run_id, attempt=attempt)
                if run is not None:
                    store.event_append(run, "workflow-step-progress", path=path, data=data)
        finally:
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()

    return write


def _context(run: WorkflowRun, execute: Execute, cancel: threading.Event) -> StepContext:
    public = run.request_context or {}
    request_context = RequestContext(
        tenant_id=run.tenant_id,
        user_id=run.owner_id,
        resource_id=run.resource_id or None,
        values=public.get("values", {}),
    )
    resume = execute.resume_data
    if execute.resumed and execute.step.resume_schema is not None:
        resume = execute.step.resume_schema.model_validate(resume)
    return StepContext(
        run_id=run.pk,
        path=execute.path,
        step_id=execute.step.id,
        attempt=execute.number,
        request_context=request_context,
        state=run.state,
        resume_data=resume,
        suspend_schema=execute.step.suspend_schema,
        writer=_writer(run.pk, run.attempt, execute.path),
        cancel_event=cancel,
    )


def _call(execute: Execute, ctx: StepContext) -> Outcome:
    """Run the step on its input (stored outputs it references read back from the run's
    workspace); an output over WORKFLOW_MAX_STEP_BYTES is moved there and referenced."""
    data = execute.input
    if artifacts.storage_configured() and artifacts.has_ref(data):
        try:
            data = artifacts.resolve(data)
        except Exception as exc:
            return Outcome(error=error_of(exc, "artifact_unreadable"))
    outcome = step_call(execute.step, data, ctx)
    if not outcome.oversize:
        return outcome
    try:
        return Outcome(
            output=artifacts.output_store(run_id=ctx.run_id, path=execute.path, output=outcome.output)
        )
    except Exception as exc:
        logger.exception("storing the output of %s on run %s failed", execute.path, ctx.run_id)
        return Outcome(error=error_of(exc, "artifact_store_failed"))


def _threaded_call(execute: Execute, ctx: StepContext) -> Outcome:
    try:
        return _call(execute, ctx)
    finally:
        connections.close_all()


def _run_batch(
    run_id: uuid.UUID, attempt: int, started: list[tuple[Execute, int]], keeper: LeaseKeeper
) -> tuple[_InFlight, Outcome] | None:
    """Run a batch; a lone step's result is returned, to commit with the next plan."""
    run = _planned.pop(run_id, None) or WorkflowRun.objects.get(pk=run_id)
    if len(started) == 1 and started[0][0].step.timeout_s is None:  # the common case: no thread
        execute, row_id = started[0]
        ctx = _context(run, execute, keeper.cancel)
        flight = _InFlight(execute, row_id, ctx, keeper.cancel, None)
        return flight, _call(execute, ctx)
    flights = []
    for execute, row_id in started:
        cancel = threading.Event()
        if keeper.cancel.is_set():
            cancel.set()
        timeout = execute.step.timeout_s
        deadline = None if timeout is None else time.monotonic() + timeout
        flights.append(_InFlight(execute, row_id, _context(run, execute, cancel), cancel, deadline))
    pool = ThreadPoolExecutor(max_workers=min(len(flights), int(settings.WORKFLOW_STEP_THREADS)))
    pending: dict[Future[Outcome], _InFlight] = {
        pool.submit(_threaded_call, f.execute, f.ctx): f for f in flights
    }
    try:
        while pending:
            deadlines = [f.deadline for f in pending.values() if f.deadline is not None]
            timeout = None if not deadlines else max(0.0, min(deadlines) - time.monotonic())
            done, _ = wait(
                pending,
                timeout=min(timeout, 0.5) if timeout is not None else 0.5,
                return_when=FIRST_COMPLETED,
            )
            if keeper.cancel.is_set():
                for flight in pending.values():
                    flight.cancel.set()
            for future in done:
                _commit(run_id, attempt, pending.pop(future), future.result())
            for future, flight in list(pending.items()):
                if flight.deadline is not None and time.monotonic() >= flight.deadline:
                    flight.cancel.set()
                    pending.pop(future)
                    late = StepTimeout(f"The step ran past its timeout of {flight.execute.step.timeout_s} s.")
                    _commit(run_id, attempt, flight, Outcome(error=error_of(late, "timeout")))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return None


def _commit(run_id: uuid.UUID, attempt: int, flight: _InFlight, outcome: Outcome) -> None:
    """The step's journal row and the run's progress in one transaction, fenced by the claim."""
    with transaction.atomic():
        run = store.run_lock(run_id=run_id, attempt=attempt)
        if run is None:
            return  # the lease was taken over: this worker's result is not the run's
        _apply(run, flight, outcome)


def _apply(run: WorkflowRun, flight: _InFlight, outcome: Outcome, *, persist: bool = True) -> None:
    """Record what one step came to, on a run this transaction has locked under its claim."""
    execute = flight.execute
    now = timezone.now()
    if outcome.suspended:
        if not store.attempt_end(
            flight.row_id, StepAttempt.Status.SUSPENDED, output=outcome.payload, now=now
        ):
            return
        suspension = Suspension.objects.create(
            run=run,
            generation=run.generation,
            path=execute.path,
            step_id=execute.step.id,
            payload=outcome.payload,
        )
        gate = None
        if execute.step.kind == "approval":  # decided through the runs' approval service
            gate = approvals.gate_open(run, suspension, execute.step)
        store.event_append(
            run,
            "workflow-step-suspended",
            path=execute.path,
            data={
                "stepId": execute.step.id,
                "payload": outcome.payload,
                **({"approval": gate} if gate else {}),
            },
            persist=persist,
        )
        return
    if outcome.error is None:
        patch = flight.ctx.state_patch
        if not store.attempt_end(
            flight.row_id, StepAttempt.Status.SUCCESS, output=outcome.output, state_patch=patch, now=now
        ):
            return
        if patch:
            run.state = {**run.state, **patch}
            run.save(update_fields=["state", "updated_at"])
        store.event_append(
            run,
            "workflow-step-result",
            path=execute.path,
            data={"stepId": execute.step.id, "status": "success", "output": outcome.output},
            persist=persist,
        )
        return
    if not store.attempt_end(
        flight.row_id,
        StepAttempt.Status.FAILED,
        error=outcome.error,
        retryable=outcome.retryable,
        now=now,
    ):
        return
    policy = execute.step.retry
    retry = outcome.retryable and execute.number < policy.attempts
    data: dict[str, Any] = {
        "stepId": execute.step.id,
        "status": "failed",
        "error": outcome.error,
        "attempt": execute.number,
    }
    if retry:
        delay = policy.delay_s(execute.number, random.random())  # noqa: S311 - jitter, not a secret
        wake_at = now + timedelta(seconds=delay)
        Timer.objects.create(
            run=run, generation=run.generation, path=execute.path, kind=Timer.Kind.RETRY, wake_at=wake_at
        )
        data["retryAt"] = wake_at.isoformat()
    store.event_append(run, "workflow-step-result", path=execute.path, data=data, persist=persist)
