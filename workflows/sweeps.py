"""What runs without a caller: the beat sweep (due timers, runs whose lease ran out or whose
message was lost, retention) and the deletion of the runs of a deleted thread or resource."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Q
from django.utils import timezone

from core.access import Actor, owned
from workflows.engine import store
from workflows.models import Timer, WorkflowRun
from workflows.services import advance_after_commit

Status = WorkflowRun.Status

_retention_done_at = 0.0
RETENTION_EVERY_S = 600.0


def runs_sweep(*, now: Any = None, limit: int = 500, retention: bool | None = None) -> int:
    """Fire due timers, hand on runs whose lease ran out or whose message was lost, apply retention.

    Beat runs it every WORKFLOW_SWEEP_EVERY_S (1 s: a timer past WORKFLOW_INLINE_WAIT_S fires
    at most that late), so the common case, nothing due, is one statement: one read says
    whether any timer is due or any run looks stuck. Retention runs at most every 10 minutes
    in each process (`retention=True` forces it)."""
    global _retention_done_at
    now = now or timezone.now()
    stale = now - timedelta(seconds=float(settings.WORKFLOW_LEASE_S))
    stuck = WorkflowRun.objects.filter(status__in=WorkflowRun.ACTIVE, updated_at__lt=stale).filter(
        Q(lease_expires_at__lt=now)
        | Q(lease_expires_at__isnull=True) & (Q(dirty=True) | Q(status__in=[Status.PENDING, Status.RUNNING]))
    )
    due_timers = Timer.objects.filter(fired_at__isnull=True, wake_at__lte=now)
    if retention is None:
        retention = time.monotonic() - _retention_done_at >= RETENTION_EVERY_S
    if retention:
        _retention_done_at = time.monotonic()
        _retention_apply(now=now, limit=limit)
    anything = WorkflowRun.objects.annotate(due=Exists(due_timers), stuck=Exists(stuck.values("pk"))).values(
        "due", "stuck"
    )[:1]
    flags = next(iter(anything), None)
    if flags is None or not (flags["due"] or flags["stuck"]):
        return 0
    woken: set[uuid.UUID] = set()
    for timer in Timer.objects.filter(fired_at__isnull=True, wake_at__lte=now).order_by("wake_at")[:limit]:
        with transaction.atomic():
            run = (
                WorkflowRun.objects.select_for_update()
                .filter(pk=timer.run_id, status__in=WorkflowRun.ACTIVE)
                .first()
            )
            if run is not None and store.timer_fire(timer, now=now):
                WorkflowRun.objects.filter(pk=run.pk).update(dirty=True)
                woken.add(run.pk)
    # A run whose lease ran out, or that waits unclaimed for longer than a lease (its message
    # lost, or still queued behind others): sent again, and marked, so that a queue that is
    # merely long gets one more message per run and lease period, not one per sweep.
    stuck_ids = list(stuck.values_list("pk", flat=True)[:limit])
    WorkflowRun.objects.filter(pk__in=stuck_ids).update(updated_at=now)
    woken.update(stuck_ids)
    for run_id in woken:
        advance_after_commit(run_id)
    return len(woken)


def _retention_apply(*, now: Any, limit: int) -> None:
    days = int(settings.WORKFLOW_RETENTION_DAYS)
    if days > 0:
        expired = WorkflowRun.objects.filter(
            status__in=WorkflowRun.TERMINAL, finished_at__lt=now - timedelta(days=days)
        )
        expired_ids = list(expired.values_list("pk", flat=True)[:limit])
        WorkflowRun.objects.filter(pk__in=expired_ids).delete()


def runs_delete_for_thread(*, tenant_id: int, thread_id: str, owner_id: int | None) -> int:
    """Delete the runs the thread's owner started for a thread, with their journal, events,
    timers, suspensions and fan-in rows (on `memory.signals.thread_deleted`); returns the runs
    deleted. Another owner's runs naming the same thread id stay: a run may name a thread id
    before (or without) a memory thread of that id, and deleting that thread must not reach
    them."""
    return _runs_delete(_thread_runs(tenant_id=tenant_id, threads={thread_id: owner_id}))


def runs_delete_for_resource(*, actor: Actor, resource_id: str, threads: dict[str, int | None]) -> int:
    """Delete the runs for a resource that the deleting actor may manage (a member: its own),
    and the runs of the resource's deleted threads as `runs_delete_for_thread` does (on
    `memory.signals.resource_data_deleted`); returns the runs deleted."""
    runs = owned(WorkflowRun.objects.filter(resource_id=resource_id), actor)
    return _runs_delete(runs, _thread_runs(tenant_id=actor.tenant_id, threads=threads))


def _thread_runs(*, tenant_id: int, threads: dict[str, int | None]) -> Any:
    """The runs each thread's owner started for it (owner None: the runs without an owner)."""
    by_owner: dict[int | None, list[str]] = {}
    for thread_id, owner_id in threads.items():
        by_owner.setdefault(owner_id, []).append(thread_id)
    match = Q(pk__in=[])
    for owner_id, thread_ids in by_owner.items():
        owner = Q(owner__isnull=True) if owner_id is None else Q(owner_id=owner_id)
        match |= Q(thread_id__in=thread_ids) & owner
    return WorkflowRun.objects.filter(match, tenant_id=tenant_id)


def _runs_delete(*querysets: Any) -> int:
    ids = list({pk for runs in querysets for pk in runs.values_list("pk", flat=True)})
    if ids:
        WorkflowRun.objects.filter(pk__in=ids).delete()  # the rows under a run cascade with it
    return len(ids)
