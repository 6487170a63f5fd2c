"""Admin: workspaces, forks, checkpoints and webhook deliveries, with teardown and restore actions.

Actions call the services; the credential secrets are never displayed.
"""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from core.access import Actor
from core.errors import PlatformError
from storage_kit.models import (
    Checkpoint,
    Coordination,
    Dataset,
    DeliveryAttempt,
    Fork,
    WebhookDelivery,
    Workspace,
)
from storage_kit.services import forks, locations, workspaces


def _report(request: HttpRequest, label: str, errors: list[str]) -> None:
    if errors:
        messages.error(request, f"{label}: {len(errors)} error(s): " + "; ".join(errors[:5]))
    else:
        messages.success(request, f"{label}: torn down.")


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin[Workspace]):
    list_display = ["name", "tenant", "bucket", "prefix", "role", "status", "expires_at", "created_at"]
    list_filter = ["status", "role", "tenant"]
    search_fields = ["name", "bucket"]
    readonly_fields = ["credential", "errors", "torn_down_at"]
    actions = ["teardown"]

    @admin.action(description="Tear down the selected workspaces")
    def teardown(self, request: HttpRequest, queryset: QuerySet[Workspace]) -> None:
        for workspace in queryset:
            report = workspaces.workspace_teardown(
                actor=Actor.system(tenant_id=workspace.tenant_id), workspace_id=workspace.pk
            )
            _report(request, workspace.name, report.errors)


@admin.register(Fork)
class ForkAdmin(admin.ModelAdmin[Fork]):
    list_display = ["name", "tenant", "mode", "checkpoint", "status", "expires_at", "created_at"]
    list_filter = ["status", "mode", "tenant"]
    search_fields = ["name"]
    readonly_fields = ["credential", "errors", "torn_down_at"]
    actions = ["teardown"]

    @admin.action(description="Tear down the selected forks")
    def teardown(self, request: HttpRequest, queryset: QuerySet[Fork]) -> None:
        for fork in queryset:
            report = forks.fork_teardown(actor=Actor.system(tenant_id=fork.tenant_id), fork_id=fork.pk)
            _report(request, fork.name, report.errors)


@admin.register(Checkpoint)
class CheckpointAdmin(admin.ModelAdmin[Checkpoint]):
    list_display = [
        "name",
        "tenant",
        "bucket",
        "prefix",
        "object_count",
        "total_bytes",
        "internal",
        "created_at",
    ]
    list_filter = ["internal", "tenant"]
    search_fields = ["name", "bucket"]
    readonly_fields = ["bucket", "prefix", "name", "object_count", "total_bytes", "internal", "deleted_at"]
    actions = ["restore"]

    @admin.action(description="Restore into a new overlay fork")
    def restore(self, request: HttpRequest, queryset: QuerySet[Checkpoint]) -> None:
        for checkpoint in queryset:
            name = f"{checkpoint.bucket[:40]}-restore-{secrets.token_hex(3)}"
            try:
                forks.checkpoint_restore(
                    actor=Actor.system(tenant_id=checkpoint.tenant_id),
                    checkpoint_id=checkpoint.pk,
                    fork_name=name,
                )
            except PlatformError as exc:
                messages.error(request, f"{checkpoint}: {exc.message}")
            else:
                messages.success(request, f"{checkpoint} restored into fork {name}.")


class DatasetForm(forms.ModelForm[Dataset]):
    class Meta:
        model = Dataset
        fields = ["tenant", "name", "bucket", "prefix"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and not self.errors:
            try:
                locations.dataset_validate(
                    name=data["name"], bucket=data["bucket"], prefix=data.get("prefix", "")
                )
            except PlatformError as exc:
                raise forms.ValidationError(exc.message) from None
        return data


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin[Dataset]):
    """Registering a dataset lets the tenant's members checkpoint and fork that location."""

    form = DatasetForm
    list_display = ["name", "tenant", "bucket", "prefix", "owner", "created_at"]
    list_filter = ["tenant"]
    search_fields = ["name", "bucket"]

    def get_readonly_fields(self, request: HttpRequest, obj: Dataset | None = None) -> list[str]:
        return ["tenant", "bucket", "prefix"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Dataset, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        try:
            created = locations.dataset_register(
                tenant_id=obj.tenant_id, name=obj.name, bucket=obj.bucket, prefix=obj.prefix
            )
        except PlatformError as exc:
            messages.error(request, exc.message)
            return
        obj.pk = created.pk


@admin.register(Coordination)
class CoordinationAdmin(admin.ModelAdmin[Coordination]):
    list_display = ["bucket", "prefix", "key_filter", "webhook_url", "active", "tenant", "created_at"]
    list_filter = ["active", "tenant"]
    exclude = ["auth_token_encrypted"]


class AttemptInline(admin.TabularInline[DeliveryAttempt, WebhookDelivery]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "status_code", "error", "duration_ms", "at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin[WebhookDelivery]):
    list_display = ["event_id", "coordination", "status", "attempts", "next_attempt_at", "created_at"]
    list_filter = ["status", "tenant"]
    search_fields = ["event_id"]
    readonly_fields = ["event_id", "payload", "status", "attempts", "next_attempt_at", "delivered_at"]
    inlines = [AttemptInline]
