"""Workspaces: a (bucket, prefix) per run with a TTL and scoped keys, and their teardown."""

from __future__ import annotations

import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.access import Actor, owned
from core.errors import Conflict, NotFound, PlatformError, ValidationFailed
from observability.tracing import traced_operation
from storage_kit.backend import ObjectStore, admin_store
from storage_kit.credentials import Grant, credential_mint
from storage_kit.models import Lifecycle, Role, Workspace
from storage_kit.services.common import (
    bucket_name_validate,
    bucket_tags,
    expiry_from_ttl,
    handle_for,
    location_empty,
    pinned_errors,
    shared_bucket_ensure,
    teardown_record,
    teardown_revoke,
)
from storage_kit.types import StorageHandle, TeardownReport


def _role_validate(role: str) -> str:
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}.", details={"role": [f"One of {Role.values}."]})
    return role


def workspace_create(
    *,
    actor: Actor,
    name: str,
    ttl_s: int | None = None,
    role: str = Role.EDITOR,
    shared_bucket: bool = False,
) -> StorageHandle:
    """Provision a workspace: its own versioned bucket, or a prefix of STORAGE_WORKSPACE_BUCKET.

    The row is committed before anything is created at the store, so a process
    that dies part-way leaves something the sweeper can find. A failure part-way
    tears down what was made and raises.
    """
    bucket_name_validate(name)
    _role_validate(role)
    tenant_id = actor.tenant_id
    expires_at = expiry_from_ttl(ttl_s)
    store = admin_store()
    bucket = settings.STORAGE_WORKSPACE_BUCKET if shared_bucket else name
    if Workspace.objects.filter(name=name).exclude(status=Lifecycle.TORN_DOWN).exists() or (
        not shared_bucket and store.bucket_exists(bucket=name)
    ):
        raise Conflict(f"A workspace or bucket named {name!r} already exists.", details={"name": ["Taken."]})
    with traced_operation("storage.workspace_create", kind="storage", tenant_id=tenant_id, workspace=name):
        workspace = Workspace.objects.create(
            tenant_id=tenant_id,
            owner_id=actor.user_id,
            name=name,
            bucket=bucket,
            prefix=f"{name}/" if shared_bucket else "",
            owns_bucket=not shared_bucket,
            role=role,
            expires_at=expires_at,
        )
        try:
            _provision(store=store, workspace=workspace)
        except PlatformError as exc:
            report = _teardown(store=store, workspace=workspace)
            raise type(exc)(
                f"Workspace {name!r} could not be created: {exc.message}",
                details={**exc.details, "cleanup_errors": report.errors},
            ) from exc
        return handle_for(workspace)


def _provision(*, store: ObjectStore, workspace: Workspace) -> None:
    if workspace.owns_bucket:
        store.bucket_create(
            bucket=workspace.bucket,
            tags=bucket_tags(
                tenant_id=workspace.tenant_id, kind="workspace", expires_at=workspace.expires_at
            ),
        )
        store.bucket_enable_versioning(bucket=workspace.bucket)
        # Backstop for a dead orchestrator; expires current objects only, never pinned versions.
        days = max(1, math.ceil((workspace.expires_at - timezone.now()).total_seconds() / 86400))
        store.bucket_set_expiry(bucket=workspace.bucket, days=days)
    else:
        shared_bucket_ensure(store=store, bucket=workspace.bucket, versioned=True)
    credential, _ = credential_mint(
        store=store,
        tenant_id=workspace.tenant_id,
        owner_id=workspace.owner_id,
        scope=f"ws-{workspace.name}",
        role=workspace.role,
        grants=[Grant(bucket=workspace.bucket, prefix=workspace.prefix, write=True)],
    )
    workspace.credential = credential
    workspace.save(update_fields=["credential"])


def workspace_get(*, actor: Actor, workspace_id: int) -> Workspace:
    """A workspace the actor may manage (its own; any of the tenant's for a tenant admin)."""
    workspace = owned(Workspace.objects.select_related("credential").filter(pk=workspace_id), actor).first()
    if workspace is None:
        raise NotFound("No such workspace.")
    return workspace


def workspace_handle(*, actor: Actor, workspace_id: int) -> StorageHandle:
    workspace = workspace_get(actor=actor, workspace_id=workspace_id)
    if workspace.status == Lifecycle.TORN_DOWN:
        raise Conflict("The workspace was torn down.")
    return handle_for(workspace)


def workspace_teardown(*, actor: Actor, workspace_id: int) -> TeardownReport:
    """Revoke the keys and delete the objects (and bucket); report every failure."""
    workspace = workspace_get(actor=actor, workspace_id=workspace_id)
    with traced_operation("storage.workspace_teardown", kind="storage", tenant_id=actor.tenant_id) as span:
        report = _teardown(store=admin_store(), workspace=workspace)
        span.set(workspace=workspace.name, errors=len(report.errors))
    return report


def _teardown(*, store: ObjectStore, workspace: Workspace) -> TeardownReport:
    """Best effort; the row stays `teardown_failed` with its errors for the sweeper to retry."""
    report = TeardownReport(resources=[f"workspace:{workspace.name}"])
    if workspace.status == Lifecycle.TORN_DOWN:
        return report
    teardown_revoke(store=store, row=workspace, report=report)
    pinned = pinned_errors(workspace)
    if pinned:
        report.errors.extend(pinned)
    else:
        report.errors.extend(
            location_empty(
                store=store,
                bucket=workspace.bucket,
                prefix=workspace.prefix,
                delete_bucket=workspace.owns_bucket,
            )
        )
    with transaction.atomic():
        teardown_record(row=workspace, report=report)
    return report
