"""Workflow runs and everything they leave behind, as rows: PostgreSQL is the only truth.

A run holds its input, state, output and lease; `StepAttempt` is the append-only journal of
every step run (input, output, error, timings); `Suspension`, `Timer` and `FanIn` hold what a
run waits on; `Event` is the numbered stream a client watches. A Celery message says only
"advance run R". Owner model: a run belongs to a tenant and the user who started it; the
rows under it reach both through the run (`workflows/selectors.py`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class WorkflowDefinition(models.Model):
    """A registered workflow version as the admin lists it (synced from code); `enabled`
    off refuses new runs of the workflow, while runs in flight finish."""

    workflow_id = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    graph_hash = models.CharField(max_length=16)
    description = models.TextField(blank=True)
    steps = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True, help_text="Off: starting a run of this workflow answers 409.")
    registered = models.BooleanField(default=True, help_text="Defined in the code of the last sync.")
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workflow_id", "version"]
        constraints = [
            models.UniqueConstraint(fields=["workflow_id", "version"], name="workflow_definition_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.version}"


class WorkflowRun(models.Model):
    class Status(models.TextChoices):
        CREATED = "created"
        PENDING = "pending"
        RUNNING = "running"
        WAITING = "waiting"
        SUSPENDED = "suspended"
        SUCCESS = "success"
        FAILED = "failed"
        CANCELED = "canceled"

    ACTIVE = (Status.PENDING, Status.RUNNING, Status.WAITING, Status.SUSPENDED)
    TERMINAL = (Status.SUCCESS, Status.FAILED, Status.CANCELED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    workflow_id = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    graph_hash = models.CharField(max_length=16)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATED)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    state = models.JSONField(default=dict, blank=True)
    request_context = models.JSONField(default=dict, blank=True)
    resource_id = models.CharField(max_length=255, blank=True, default="")
    thread_id = models.CharField(max_length=255, blank=True, default="")
    concurrency_key = models.CharField(max_length=255, blank=True, default="")
    # The lease: who advances the run now, until when, and the fencing token of that claim.
    lease_owner = models.CharField(max_length=200, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0, help_text="Claims so far; every write is fenced by it.")
    dirty = models.BooleanField(default=False, help_text="Something changed that the holder has not planned.")
    cancel_requested = models.BooleanField(default=False)
    generation = models.PositiveIntegerField(default=1, help_text="Grows on every restart from a step.")
    event_seq = models.PositiveIntegerField(default=0)
    # The run's storage_kit workspace (large step outputs, a report), made on first use.
    workspace_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["tenant", "workflow_id", "-created_at"], name="wf_run_list"),
            models.Index(fields=["status", "lease_expires_at"], name="wf_run_sweep"),
            models.Index(fields=["finished_at"], name="wf_run_retention"),
        ]
        constraints = [
            # Backpressure: at most one active run per workflow and concurrency key.
            models.UniqueConstraint(
                fields=["tenant", "workflow_id", "concurrency_key"],
                condition=Q(status__in=["pending", "running", "waiting", "suspended"])
                & ~Q(concurrency_key=""),
                name="wf_run_one_active_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} {self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL


class StepAttempt(models.Model):
    """One run of one step (append-only; an attempt's row is finished, never rewritten after)."""

    class Status(models.TextChoices):
        RUNNING = "running"
        SUCCESS = "success"
        FAILED = "failed"
        SUSPENDED = "suspended"
        ABANDONED = "abandoned", "abandoned (its worker was lost)"
        CARRIED = "carried", "carried over by a restart"

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="attempts")
    generation = models.PositiveIntegerField(default=1)
    path = models.CharField(max_length=500)
    step_id = models.CharField(max_length=64)
    number = models.PositiveIntegerField(help_text="1 for the first run of this step path.")
    run_attempt = models.PositiveIntegerField(help_text="The run's claim this attempt ran under.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    input = models.JSONField(null=True, blank=True)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    retryable = models.BooleanField(default=True)
    state_patch = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "generation", "path"], name="wf_attempt_path")]
        constraints = [
            # A completed step is recorded once per generation: never twice.
            models.UniqueConstraint(
                fields=["run", "generation", "path"],
                condition=Q(status__in=["success", "carried"]),
                name="wf_attempt_one_success",
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} #{self.number} ({self.status})"

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)


class Suspension(models.Model):
    """A step waiting for human input, addressed by its exact path; resumed once."""

    class Status(models.TextChoices):
        OPEN = "open"
        RESUMED = "resumed"
        CANCELED = "canceled"

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="suspensions")
    generation = models.PositiveIntegerField(default=1)
    path = models.CharField(max_length=500)
    step_id = models.CharField(max_length=64)
    payload = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    resume_data = models.JSONField(null=True, blank=True)
    resumed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    # An approval step's wait as the runs' approval service holds it: the agent run whose one
    # approval gate (`ToolCallGate`) stands for this suspension (`workflows.approvals`).
    approval_run_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "generation", "path"],
                condition=Q(status="open"),
                name="wf_suspension_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.path} ({self.status})"


class Timer(models.Model):
    """A sleep or a retry's backoff, woken by the beat sweep (or the worker, if it is near)."""

    class Kind(models.TextChoices):
        SLEEP = "sleep"
        RETRY = "retry"

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="timers")
    generation = models.PositiveIntegerField(default=1)
    path = models.CharField(max_length=500)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    wake_at = models.DateTimeField()
    data = models.JSONField(null=True, blank=True, help_text="A sleep's data, passed on when it wakes.")
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["wake_at"]
        indexes = [models.Index(fields=["fired_at", "wake_at"], name="wf_timer_due")]

    def __str__(self) -> str:
        return f"{self.kind} {self.path} @ {self.wake_at:%H:%M:%S}"


class FanIn(models.Model):
    """The join of a parallel or for-each: how many branches it waits for and how many are in."""

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="fan_ins")
    generation = models.PositiveIntegerField(default=1)
    path = models.CharField(max_length=500)
    expected = models.PositiveIntegerField()
    completed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "generation", "path"], name="wf_fanin_unique")]

    def __str__(self) -> str:
        return f"{self.path} {self.completed}/{self.expected}"


class Event(models.Model):
    """The run's event stream, numbered from 1 without gaps; a client resumes from a number."""

    run = models.ForeignKey(WorkflowRun, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=40)
    path = models.CharField(max_length=500, blank=True, default="")
    data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="wf_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.seq} {self.type}"
