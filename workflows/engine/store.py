"""The engine's writes and reads of run rows, each fenced by the claim (`attempt`) it holds.

Every function that changes a claimed run locks its row (`SELECT ... FOR UPDATE`) and checks
the attempt first: a worker whose lease was taken over writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from workflows.approvals import gates_close
from workflows.engine.plan import Join, PathRecord
from workflows.models import Event, FanIn, StepAttempt, Suspension, Timer, WorkflowRun

Status = WorkflowRun.Status
AttemptStatus = StepAttempt.Status


def event_append(
    run: WorkflowRun, type: str, *, path: str = "", data: Any = None, persist: bool = True
) -> Event:
    """Append the next numbered event of a run whose row this transaction has locked.

    `persist=False` leaves the run's counter to the caller, who saves `event_seq` with the
    run before the transaction ends (one statement fewer on the engine's hot path)."""
    run.event_seq += 1
    if persist:
        WorkflowRun.objects.filter(pk=run.pk).update(event_seq=run.event_seq)
    return Event.objects.create(run=run, seq=run.event_seq, type=type, path=path, data=data)


def run_claim(*, run_id: Any, owner: str, lease_s: float) -> WorkflowRun | None:
    """Take the run's lease if it is free or expired; a new attempt number fences the old holder.

    Steps the previous holder left running are marked abandoned (they count as failed attempts,
    and an at-most-once step among them fails the run instead of running again).
    """
    now = timezone.now()
    with transaction.atomic():
        run = (
            WorkflowRun.objects.select_for_update(skip_locked=True)
            .filter(pk=run_id, status__in=WorkflowRun.ACTIVE)
            .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
            .first()
        )
        if run is None:
            return None
        run.attempt += 1
        run.lease_owner = owner
        run.lease_expires_at = now + timedelta(seconds=lease_s)
        run.save(update_fields=["attempt", "lease_owner", "lease_expires_at", "updated_at"])
        StepAttempt.objects.filter(run=run, status=AttemptStatus.RUNNING).update(
            status=AttemptStatus.ABANDONED,
            finished_at=now,
            error={"code": "worker_lost", "message": "The worker running this step was lost."},
        )
        return run


def run_lock(*, run_id: Any, attempt: int) -> WorkflowRun | None:
    """The run's row, locked, if this claim still holds it (call inside a transaction)."""
    return WorkflowRun.objects.select_for_update().filter(pk=run_id, attempt=attempt).first()


def lease_refresh(*, run_id: Any, attempt: int, lease_s: float) -> tuple[bool, bool]:
    """Extend the lease; returns (still held, cancel requested)."""
    # A released lease (the run finished or is waiting) stays released: the keeper thread may
    # tick once more after the release was committed.
    held = WorkflowRun.objects.filter(pk=run_id, attempt=attempt, lease_expires_at__isnull=False).update(
        lease_expires_at=timezone.now() + timedelta(seconds=lease_s)
    )
    cancel = WorkflowRun.objects.filter(pk=run_id, cancel_requested=True).exists()
    return bool(held), cancel


def journal_load(run: WorkflowRun) -> dict[str, PathRecord]:
    """What the journal, suspensions and timers of the run's generation say about each path."""
    records: dict[str, PathRecord] = defaultdict(PathRecord)
    attempts = StepAttempt.objects.filter(run=run, generation=run.generation).order_by("id")
    for row in attempts.only("path", "status", "output", "input", "error", "retryable"):
        record = records[row.path]
        if row.status in (AttemptStatus.SUCCESS, AttemptStatus.CARRIED):
            record.has_output, record.output, record.input = True, row.output, row.input
        elif row.status in (AttemptStatus.FAILED, AttemptStatus.ABANDONED):
            record.failures += 1
            record.last_error = row.error
            record.non_retryable = record.non_retryable or not row.retryable
            record.abandoned = record.abandoned or row.status == AttemptStatus.ABANDONED
    suspensions = Suspension.objects.filter(run=run, generation=run.generation).exclude(
        status=Suspension.Status.CANCELED
    )
    for suspension in suspensions.order_by("id"):
        record = records[suspension.path]
        record.suspension = suspension.status
        record.resume_data = suspension.resume_data
    for timer in Timer.objects.filter(run=run, generation=run.generation, fired_at__isnull=True):
        if timer.kind == Timer.Kind.RETRY:
            records[timer.path].retry_pending = True
        else:
            records[timer.path].sleep_pending = True
    return dict(records)


def joins_record(run: WorkflowRun, joins: list[Join]) -> None:
    """Keep each join's counter row at what the journal says (expected and completed branches)."""
    for join in joins:
        FanIn.objects.update_or_create(
            run=run,
            generation=run.generation,
            path=join.path,
            defaults={"expected": join.expected, "completed": join.completed},
        )


def timer_fire(timer: Timer, *, now: datetime) -> bool:
    """Fire one due timer once (whoever fires it first wins); a sleep's data becomes its output."""
    if not Timer.objects.filter(pk=timer.pk, fired_at__isnull=True).update(fired_at=now):
        return False
    if timer.kind == Timer.Kind.SLEEP:
        StepAttempt.objects.create(
            run_id=timer.run_id,
            generation=timer.generation,
            path=timer.path,
            step_id=timer.path.rsplit(":", 1)[-1],
            number=1,
            run_attempt=0,
            status=AttemptStatus.SUCCESS,
            input=timer.data,
            output=timer.data,
            finished_at=now,
        )
    return True


def run_finish(
    run: WorkflowRun, status: str, *, output: Any = None, error: dict[str, Any] | None = None
) -> None:
    """End a locked run: terminal status, output or error, lease released, terminal event."""
    now = timezone.now()
    run.status = status
    run.output = output
    run.error = error
    run.finished_at = now
    run.lease_owner = ""
    run.lease_expires_at = None
    run.dirty = False
    run.save(
        update_fields=[
            "status",
            "output",
            "error",
            "finished_at",
            "lease_owner",
            "lease_expires_at",
            "dirty",
            "updated_at",
        ]
    )
    if status == Status.CANCELED:
        Suspension.objects.filter(run=run, status=Suspension.Status.OPEN).update(
            status=Suspension.Status.CANCELED
        )
    gates_close(run, reason="the workflow run ended")
    Timer.objects.filter(run=run, fired_at__isnull=True).delete()
    kinds: dict[str, str] = {Status.SUCCESS: "workflow-finish", Status.FAILED: "workflow-failed"}
    kind = kinds.get(status, "workflow-canceled")
    event_append(run, kind, data={"status": status, "output": output, "error": error})
