"""The workflows admin: registered definitions (switch one off), runs with the timeline of
their steps, and actions that resume or cancel through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from core.access import Actor
from core.errors import PlatformError
from workflows import services
from workflows.models import Event, StepAttempt, Suspension, WorkflowDefinition, WorkflowRun


@admin.register(WorkflowDefinition)
class WorkflowDefinitionAdmin(admin.ModelAdmin[WorkflowDefinition]):
    list_display = ("workflow_id", "version", "graph_hash", "enabled", "registered", "synced_at")
    list_filter = ("enabled", "registered")
    search_fields = ("workflow_id",)
    readonly_fields = (
        "workflow_id",
        "version",
        "graph_hash",
        "description",
        "steps",
        "registered",
        "synced_at",
    )
    actions = ("disable_workflows", "enable_workflows", "sync_workflows")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # definitions are code; they appear here when the code registers them

    def save_model(self, request: HttpRequest, obj: WorkflowDefinition, form: Any, change: bool) -> None:
        services.definition_set_enabled(workflow_id=obj.workflow_id, enabled=obj.enabled)

    @admin.action(description="Switch off: refuse new runs of these workflows (runs in flight finish)")
    def disable_workflows(self, request: HttpRequest, queryset: QuerySet[WorkflowDefinition]) -> None:
        for workflow_id in set(queryset.values_list("workflow_id", flat=True)):
            services.definition_set_enabled(workflow_id=workflow_id, enabled=False)

    @admin.action(description="Switch on")
    def enable_workflows(self, request: HttpRequest, queryset: QuerySet[WorkflowDefinition]) -> None:
        for workflow_id in set(queryset.values_list("workflow_id", flat=True)):
            services.definition_set_enabled(workflow_id=workflow_id, enabled=True)

    @admin.action(description="Sync the list with the code")
    def sync_workflows(self, request: HttpRequest, queryset: QuerySet[WorkflowDefinition]) -> None:
        self.message_user(request, f"{len(services.definitions_sync())} workflow versions registered.")


class _ReadOnlyInline(admin.TabularInline[Any, WorkflowRun]):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: WorkflowRun | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkflowRun | None = None) -> bool:
        return False


class StepAttemptInline(_ReadOnlyInline):
    model = StepAttempt
    verbose_name = "step attempt"
    verbose_name_plural = "Timeline: every step attempt, in order"
    fields = (
        "generation",
        "path",
        "number",
        "status",
        "started_at",
        "duration",
        "input_json",
        "output_json",
        "error_json",
    )
    readonly_fields = fields

    @admin.display(description="ms")
    def duration(self, obj: StepAttempt) -> int | None:
        return obj.duration_ms

    @admin.display(description="input")
    def input_json(self, obj: StepAttempt) -> SafeString | str:
        return pretty_json(obj.input)

    @admin.display(description="output")
    def output_json(self, obj: StepAttempt) -> SafeString | str:
        return pretty_json(obj.output)

    @admin.display(description="error")
    def error_json(self, obj: StepAttempt) -> SafeString | str:
        return pretty_json(obj.error) if obj.error else format_html("{}", "")


class SuspensionInline(_ReadOnlyInline):
    model = Suspension
    fields = ("path", "status", "payload", "resume_data", "resumed_by", "resumed_at")
    readonly_fields = fields


class EventInline(_ReadOnlyInline):
    model = Event
    fields = ("seq", "type", "path", "data", "created_at")
    readonly_fields = fields
    classes = ("collapse",)


def _actor(run: WorkflowRun) -> Actor:
    return Actor.system(tenant_id=run.tenant_id)


@admin.register(WorkflowRun)
class WorkflowRunAdmin(admin.ModelAdmin[WorkflowRun]):
    list_display = (
        "id",
        "workflow_id",
        "version",
        "status",
        "tenant",
        "owner",
        "attempt",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "workflow_id")
    search_fields = ("id", "workflow_id", "resource_id", "thread_id")
    readonly_fields = (
        "workflow_id", "version", "graph_hash", "status", "tenant", "owner", "input", "output", "error", "state",
        "resource_id", "thread_id", "concurrency_key", "lease_owner", "lease_expires_at", "attempt",
        "generation", "cancel_requested", "created_at", "started_at", "finished_at", "open_suspensions",
    )  # fmt: skip
    exclude = ("request_context", "dirty", "event_seq")
    inlines = [StepAttemptInline, SuspensionInline, EventInline]
    actions = ("cancel_runs", "approve_suspensions", "decline_suspensions")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Waiting for")
    def open_suspensions(self, obj: WorkflowRun) -> SafeString:
        rows = obj.suspensions.filter(status="open").values_list("path", "payload")
        return format_html_join(
            "", "<div><code>{}</code> {}</div>", ((p, str(payload)) for p, payload in rows)
        )

    @admin.action(description="Cancel the selected runs")
    def cancel_runs(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        for run in queryset:
            services.run_cancel(actor=_actor(run), run=run)
        self.message_user(request, f"Cancel requested for {queryset.count()} runs.")

    def _resume(self, request: HttpRequest, queryset: QuerySet[WorkflowRun], approved: bool) -> None:
        for run in queryset:
            try:
                services.run_resume_all(
                    actor=_actor(run), run=run, resume_data={"approved": approved, "reason": "from the admin"}
                )
            except PlatformError as error:
                self.message_user(request, f"{run.pk}: {error.message} {error.details}", level=messages.ERROR)

    @admin.action(description="Approve every open approval of the selected runs")
    def approve_suspensions(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        self._resume(request, queryset, True)

    @admin.action(description="Decline every open approval of the selected runs")
    def decline_suspensions(self, request: HttpRequest, queryset: QuerySet[WorkflowRun]) -> None:
        self._resume(request, queryset, False)
