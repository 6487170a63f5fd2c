"""Agent definitions, their immutable versions, registered tools, model routes and runs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from agents.limits import IDEMPOTENCY_KEY_MAX_LENGTH, MODEL_NAME_MAX_LENGTH


class Tool(models.Model):
    """A tool defined in code and synced here so operators can allowlist and disable it."""

    class SideEffect(models.TextChoices):
        NONE = "none"
        READ = "read"
        WRITE = "write"
        EXTERNAL = "external"

    id = models.SlugField(primary_key=True, max_length=100)
    description = models.TextField(blank=True)
    label = models.CharField(
        max_length=200, blank=True, help_text="Shown in the chat UI while the tool runs."
    )
    side_effect = models.CharField(max_length=16, choices=SideEffect.choices, default=SideEffect.NONE)
    needs_approval = models.BooleanField(
        default=False,
        help_text=(
            "Calls stop the run until a person approves or declines them (from code: a tool whose "
            "condition decides per call shows here as needing approval)."
        ),
    )
    approval_required = models.BooleanField(
        default=False,
        verbose_name="Operator: require approval",
        help_text=(
            "An operator's switch: every call of this tool waits for a person's approval, whatever "
            "the code declares. Kept across syncs."
        ),
    )
    timeout_s = models.FloatField(default=30.0)
    input_schema = models.JSONField(default=dict, blank=True)
    output_schema = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True, help_text="Switch off to refuse every call at once.")
    in_code = models.BooleanField(default=True, help_text="False when the code no longer defines this tool.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.id


class ModelRoute(models.Model):
    """An operator switch for one model (`provider/model`) or a whole provider (`provider/*`)."""

    model = models.CharField(max_length=200, unique=True)
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return self.model


class Agent(models.Model):
    slug = models.SlugField(max_length=100, unique=True, help_text="The agent id used by the API.")
    tenant = models.ForeignKey(
        "core.Tenant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Empty: every tenant may use this agent.",
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    instructions = models.TextField()

    class Style(models.TextChoices):
        DEFAULT = "default", "Default guardrails"
        CUSTOM = "custom", "My own text"
        OFF = "off", "Off"

    style = models.CharField(
        max_length=16,
        choices=Style.choices,
        default=Style.DEFAULT,
        help_text="Style guardrails appended to the instructions: the built-in set (no em dashes, "
        "no emoji, no flattering openers or throwaway closers), your own text, or none.",
    )
    style_instructions = models.TextField(
        blank=True,
        help_text="With style 'My own text': appended to the instructions instead of the default set.",
    )
    model = models.CharField(
        max_length=200,
        blank=True,
        help_text="provider/model (openai/gpt-4o-mini; a loose name such as scripted/claude sonnet is matched "
        "against the provider's list), tier:thinking|balanced|fast, or empty for DEFAULT_MODEL.",
    )
    fallback_models = models.JSONField(
        default=list,
        blank=True,
        help_text="Tried in order when the model fails; tier:<tier> stands for every deployed model of the tier.",
    )
    model_settings = models.JSONField(default=dict, blank=True, help_text="temperature, max_tokens, top_p")
    allow_model_override = models.BooleanField(default=False)
    max_steps = models.PositiveSmallIntegerField(default=5)
    auto_resume_suspended_tools = models.BooleanField(
        default=False,
        help_text=(
            "A tool suspended for input is resumed from the user's next message on the same thread "
            "(the model extracts the resume data against the tool's resume schema)."
        ),
    )
    tools = models.ManyToManyField(
        Tool,
        blank=True,
        related_name="agents",
        help_text="Tools allowlisted one by one; toolkits below add more.",
    )
    ambient_exclude = models.JSONField(
        default=list,
        blank=True,
        help_text="Ambient tools (offered to every agent) this agent is not offered.",
    )
    require_approval = models.BooleanField(
        default=False,
        help_text=(
            "Every tool call stops the run until a person approves or declines it (REST, WebSocket, "
            "chat); a declined call goes back to the model as a refusal."
        ),
    )
    memory = models.JSONField(default=dict, blank=True, help_text="Memory settings; empty: no memory.")
    request_context_schema = models.JSONField(
        default=dict, blank=True, help_text="JSON Schema of the request-context keys a client may send."
    )
    enabled = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class AgentToolkit(models.Model):
    """One toolkit in an agent's tool composition, with `only`, `except`, `prefix` and `rename`."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="toolkit_uses")
    position = models.PositiveSmallIntegerField(default=0)
    toolkit = models.CharField(max_length=64)
    only = models.JSONField(default=list, blank=True)
    exclude = models.JSONField(default=list, blank=True)
    prefix = models.CharField(max_length=32, blank=True)
    rename = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["agent", "position", "id"]
        verbose_name = "toolkit"

    def __str__(self) -> str:
        return self.toolkit


class AgentVersion(models.Model):
    """An immutable snapshot of an agent's configuration, written on every save."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    config = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["agent", "-number"]
        constraints = [models.UniqueConstraint(fields=["agent", "number"], name="agent_version_unique")]

    def __str__(self) -> str:
        return f"{self.agent_id} v{self.number}"


class Run(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        ABORTED = "aborted"
        SUSPENDED = "suspended"  # waiting for a decision or resume data (`ToolCallGate`)
        CANCELLED = "cancelled"  # cancelled by its owner, superseded by a new message, or expired
        INTERRUPTED = "interrupted"  # found `running` by the sweeper after its process died

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: (tenant, -created_at) below serves every lookup by tenant.
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="runs")
    agent_version = models.PositiveIntegerField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The run's owner: the user who started it (empty: the scheduler or an operator).",
    )
    thread_id = models.CharField(max_length=200, blank=True, default="")
    resource_id = models.CharField(max_length=200, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    idempotency_key = models.CharField(max_length=IDEMPOTENCY_KEY_MAX_LENGTH, null=True, blank=True)
    model = models.CharField(max_length=MODEL_NAME_MAX_LENGTH, blank=True)
    input = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    usage = models.JSONField(default=dict, blank=True)
    error = models.JSONField(default=dict, blank=True)
    trace_id = models.UUIDField(null=True, blank=True)
    steps = models.PositiveSmallIntegerField(default=0)
    # The serialisable run state (`agents.runtime.state.RunState`): messages so far, step,
    # usage, fallback-chain position, the current step's tool calls. Written when the run
    # suspends, at step boundaries of runs inserted at their start, and when it ends.
    state = models.JSONField(default=dict, blank=True)
    checkpoint_at = models.DateTimeField(
        null=True, blank=True, help_text="When the state was last written (the sweeper's clock)."
    )
    created_at = models.DateTimeField(db_index=True)
    duration_ms = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # An idempotency key is the caller's: scoped to tenant, owner and agent (a run
            # without a user, of the scheduler, shares the tenant's key space for system runs).
            models.UniqueConstraint(
                fields=["tenant", "user", "agent", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                nulls_distinct=False,
                name="run_idempotency_owner_unique",
            )
        ]
        indexes = [models.Index(fields=["tenant", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.id} {self.status}"


class ToolCallGate(models.Model):
    """One tool call a run stopped at: waiting for approval, or suspended by the tool for input.

    Stored against the exact call (run and tool call id) and a hash of its arguments. Each
    gate is decided once: the first decision wins (a conditional update under the run's row
    lock), later ones are answered with it.
    """

    class Kind(models.TextChoices):
        APPROVAL = "approval"
        SUSPENSION = "suspension"

    class Status(models.TextChoices):
        PENDING = "pending"
        APPROVED = "approved"
        DECLINED = "declined"
        EXPIRED = "expired"  # counts as declined with reason "expired"
        RESUMED = "resumed"  # a suspension that received its resume data
        CANCELLED = "cancelled"  # the run was cancelled while this call waited

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The run's owner (who, with the tenant's admins, may decide).",
    )
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="gates")
    tool_call_id = models.CharField(max_length=200)
    tool_name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    input = models.JSONField(default=dict, blank=True, help_text="The call's arguments.")
    args_hash = models.CharField(
        max_length=64, help_text="sha256 of the call's arguments as the model sent them."
    )
    step = models.PositiveSmallIntegerField(default=0)
    suspend_payload = models.JSONField(null=True, blank=True)
    resume_schema = models.JSONField(null=True, blank=True)
    resume_data = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = (
            "pending approval"  # the admin's list of them is named so (decided ones are filtered in)
        )
        verbose_name_plural = "pending approvals"
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["run", "tool_call_id"], name="gate_run_call_unique")]
        indexes = [
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["status", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.tool_name} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING
