"""Datasets of cases, experiments that run them against an agent, and the scores they earn.

Owner model: a dataset and an experiment each belong to a tenant and an owner (the user who
created them). Cases, case results and scores reach their tenant and owner through those
parents; selectors and services filter with `core.access` (see `evals/selectors.py`).
Runs and traces are referenced by id: evals does not reach into the agents' models.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Dataset(models.Model):
    """A named set of cases. `version` grows on every change to the set or its cases; an
    experiment records the version it ran and keeps its own copy of each case."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.SlugField(max_length=100)
    description = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        # Names are unique per owner: a member's private dataset names are no one else's concern,
        # so another member's taken name must not answer 409. Tenant-wide datasets (no owner)
        # have names unique among themselves, checked by `dataset_create`: not a constraint,
        # since deleting a user makes its datasets ownerless (SET_NULL), and that must not fail
        # on a name another deleted user or a tenant-wide dataset already has.
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "owner", "name"],
                condition=models.Q(owner__isnull=False),
                name="eval_dataset_name_unique_per_owner",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Case(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="cases")
    name = models.SlugField(max_length=100)
    input_messages = models.JSONField(help_text='[{"role": "user", "content": "..."}]')
    request_context = models.JSONField(default=dict, blank=True)
    expected_output = models.TextField(blank=True)
    expected_tools = models.JSONField(default=list, blank=True, help_text="Tool ids the run must call.")
    forbidden_tools = models.JSONField(default=list, blank=True, help_text="Tool ids the run must not call.")
    expected_tool_calls = models.JSONField(
        default=list, blank=True, help_text='In order: [{"name": "tool", "arguments": {...}}]'
    )
    reference_context = models.JSONField(
        default=list, blank=True, help_text="Passages an answer must be faithful to."
    )
    assertions = models.JSONField(
        default=list,
        blank=True,
        help_text='Extra scorers for this case: [{"scorer": "regex", "pattern": "..."}]',
    )
    tags = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dataset", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="eval_case_name_unique")]

    def __str__(self) -> str:
        return self.name


class Experiment(models.Model):
    """A dataset version run against an agent version or a workflow (`workflow_id` set): each
    case `repeats` times, at most `concurrency` cases at once, every result scored by `scorers`."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        CANCELLED = "cancelled"

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="experiments")
    dataset_version = models.PositiveIntegerField()
    agent_slug = models.SlugField(max_length=100, blank=True, help_text="Empty for a workflow experiment.")
    agent_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The agent's version when the experiment started."
    )
    workflow_id = models.CharField(
        max_length=64, blank=True, help_text="The workflow each case ran as (instead of an agent)."
    )
    workflow_version = models.CharField(max_length=32, blank=True)
    scorers = models.JSONField(default=list, blank=True, help_text='[{"scorer": "contains"}, ...]')
    repeats = models.PositiveSmallIntegerField(default=1)
    concurrency = models.PositiveSmallIntegerField(default=4)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.dataset_version} x {self.target_label}"

    @property
    def target_label(self) -> str:
        """What the cases ran against: `agent vN` or `workflow <id> vX`."""
        if self.workflow_id:
            return f"workflow {self.workflow_id} v{self.workflow_version}"
        return f"{self.agent_slug} v{self.agent_version}"


class CaseResult(models.Model):
    """One case x repeat of an experiment. `errored`: the run itself failed (provider down,
    runtime error) or a scorer could not score; `failed`: the run ended and a score did not pass."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        PASSED = "passed"
        FAILED = "failed"
        ERRORED = "errored"
        CANCELLED = "cancelled"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="results")
    case = models.ForeignKey(Case, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    case_name = models.SlugField(max_length=100)
    case_data = models.JSONField(help_text="The case as it was when the experiment started.")
    repeat = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    claim = models.UUIDField(null=True, blank=True, help_text="The attempt that holds this result.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    run_id = models.UUIDField(null=True, blank=True, db_index=True)
    trace_id = models.UUIDField(null=True, blank=True)
    workflow_run_id = models.UUIDField(
        null=True, blank=True, help_text="The workflow run, for a workflow target."
    )
    output = models.JSONField(default=dict, blank=True)
    error = models.JSONField(default=dict, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["experiment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "case_name", "repeat"], name="eval_result_case_repeat_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_name}#{self.repeat} {self.status}"


class Score(models.Model):
    """What one scorer said about one result. `value` is None when the scorer errored."""

    result = models.ForeignKey(CaseResult, on_delete=models.CASCADE, related_name="scores")
    scorer = models.CharField(max_length=100)
    value = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    errored = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["result", "scorer"]
        constraints = [models.UniqueConstraint(fields=["result", "scorer"], name="eval_score_unique")]

    def __str__(self) -> str:
        return f"{self.scorer}={self.value}"


class LiveScoring(models.Model):
    """Score a sample of an agent's live runs in the background: each completed run is in the
    sample when a hash of its id falls below `sample_rate`."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agent_slug = models.SlugField(max_length=100)
    sample_rate = models.FloatField(help_text="0 to 1: the share of completed runs to score.")
    scorers = models.JSONField(default=list, help_text='[{"scorer": "no_side_effect"}, ...]')
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agent_slug"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "agent_slug"], name="eval_live_scoring_agent_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agent_slug} at {self.sample_rate:.0%}"


class LiveScore(models.Model):
    """What one scorer said about one live run."""

    config = models.ForeignKey(LiveScoring, on_delete=models.CASCADE, related_name="scores")
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    run_id = models.UUIDField(db_index=True)
    trace_id = models.UUIDField(null=True, blank=True)
    scorer = models.CharField(max_length=100)
    value = models.FloatField(null=True, blank=True)
    passed = models.BooleanField(default=False)
    errored = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["run_id", "scorer"], name="eval_live_score_unique")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.scorer}={self.value}"
