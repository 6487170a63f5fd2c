"""Forks of a checkpoint: `overlay` (copy-on-write rows) or `materialized` (server-side copies)."""

from __future__ import annotations

import math
import secrets
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.access import Actor, owned
from core.errors import Conflict, NotFound, PlatformError, ValidationFailed
from observability.tracing import traced_operation
from storage_kit.backend import ObjectStore, admin_store
from storage_kit.credentials import Grant, credential_mint
from storage_kit.models import (
    Checkpoint,
    Fork,
    ForkMode,
    ForkSet,
    Lifecycle,
    ManifestEntry,
    OverlayEntry,
    Role,
)
from storage_kit.services.checkpoints import checkpoint_create, checkpoint_get
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
from storage_kit.services.locations import location_authorize
from storage_kit.types import ForkSetResult, StorageHandle, TeardownReport


def _validate(*, count: int, mode: str, role: str) -> None:
    if count < 1 or count > settings.STORAGE_MAX_FORKS:
        raise ValidationFailed(
            f"count must be between 1 and {settings.STORAGE_MAX_FORKS}.",
            details={"count": [f"Between 1 and {settings.STORAGE_MAX_FORKS} (STORAGE_MAX_FORKS)."]},
        )
    if mode not in ForkMode.values:
        raise ValidationFailed(f"Unknown mode {mode!r}.", details={"mode": [f"One of {ForkMode.values}."]})
    if role not in Role.values:
        raise ValidationFailed(f"Unknown role {role!r}.", details={"role": [f"One of {Role.values}."]})


def _readable_checkpoint(*, actor: Actor, checkpoint_id: int) -> Checkpoint:
    """A checkpoint the actor may manage whose location it still owns: a fork's key reads that location,
    so a checkpoint taken where the tenant had no right (or whose location it gave up) is not found."""
    checkpoint = checkpoint_get(actor=actor, checkpoint_id=checkpoint_id)
    try:
        location_authorize(actor=actor, bucket=checkpoint.bucket, prefix=checkpoint.prefix)
    except NotFound:
        raise NotFound(
            "No such checkpoint.", details={"checkpoint_id": [f"Unknown checkpoint {checkpoint_id}."]}
        ) from None
    return checkpoint


def forks_create(
    *,
    actor: Actor,
    count: int,
    source_bucket: str | None = None,
    source_prefix: str = "",
    checkpoint_id: int | None = None,
    mode: str = ForkMode.OVERLAY,
    role: str = Role.EDITOR,
    ttl_s: int | None = None,
    name_prefix: str | None = None,
) -> ForkSetResult:
    """Create `count` forks of a checkpoint (taken now of `source_bucket`/`source_prefix` when none is given).

    The checkpoint must be one the actor may manage, and a new one is taken only inside a
    location the actor owns. Forks that fail are cleaned up and listed in `failures`; the
    others are returned.
    """
    _validate(count=count, mode=mode, role=role)
    expires_at = expiry_from_ttl(ttl_s)
    existing = (
        _readable_checkpoint(actor=actor, checkpoint_id=checkpoint_id) if checkpoint_id is not None else None
    )
    source = existing.bucket if existing is not None else source_bucket
    if not source:
        raise ValidationFailed(
            "Give source_bucket or checkpoint_id.", details={"source_bucket": ["Required."]}
        )
    base = name_prefix or f"{source[:40]}-fork-{secrets.token_hex(3)}"
    names = [f"{base}-{i}" for i in range(count)]
    for name in names:
        bucket_name_validate(name, field="name_prefix")
    if existing is not None:
        checkpoint = existing
    else:
        info = checkpoint_create(
            actor=actor,
            bucket=source,
            prefix=source_prefix,
            name=f"forks-{secrets.token_hex(6)}",
            internal=True,
            field="source_bucket",
        )
        checkpoint = Checkpoint.objects.get(pk=info.id)
    tenant_id = actor.tenant_id
    fork_set = ForkSet.objects.create(
        tenant_id=tenant_id,
        owner_id=actor.user_id,
        source_bucket=checkpoint.bucket,
        checkpoint=checkpoint,
        requested=count,
    )
    store = admin_store()
    forks: list[StorageHandle] = []
    failures: list[str] = []
    with traced_operation(
        "storage.forks_create", kind="storage", tenant_id=tenant_id, count=count, mode=mode
    ):
        for name in names:
            try:
                forks.append(
                    _fork_create(
                        store=store,
                        actor=actor,
                        checkpoint=checkpoint,
                        fork_set=fork_set,
                        name=name,
                        mode=mode,
                        role=role,
                        expires_at=expires_at,
                    )
                )
            except PlatformError as exc:
                failures.append(f"{name}: {exc.message}")
    return ForkSetResult(fork_set_id=fork_set.pk, checkpoint_id=checkpoint.pk, forks=forks, failures=failures)


def _fork_create(
    *,
    store: ObjectStore,
    actor: Actor,
    checkpoint: Checkpoint,
    fork_set: ForkSet | None,
    name: str,
    mode: str,
    role: str,
    expires_at: datetime,
) -> StorageHandle:
    if Fork.objects.filter(name=name).exclude(status=Lifecycle.TORN_DOWN).exists():
        raise Conflict(f"A fork named {name!r} already exists.", details={"name": ["Taken."]})
    overlay = mode == ForkMode.OVERLAY
    if not overlay and store.bucket_exists(bucket=name):
        raise Conflict(f"A bucket named {name!r} already exists.", details={"name": ["Taken."]})
    fork = Fork.objects.create(
        tenant_id=checkpoint.tenant_id,
        owner_id=actor.user_id,
        fork_set=fork_set,
        name=name,
        mode=mode,
        checkpoint=checkpoint,
        bucket=settings.STORAGE_FORKS_BUCKET if overlay else name,
        prefix=f"{name}/" if overlay else "",
        role=role,
        expires_at=expires_at,
    )
    try:
        if overlay:
            shared_bucket_ensure(store=store, bucket=fork.bucket, versioned=False)
            grants = [
                Grant(bucket=checkpoint.bucket, prefix=checkpoint.prefix, write=False),
                Grant(bucket=fork.bucket, prefix=fork.prefix, write=True),
            ]
        else:
            _materialize(store=store, fork=fork, checkpoint=checkpoint)
            grants = [Grant(bucket=fork.bucket, prefix="", write=True)]
        credential, _ = credential_mint(
            store=store,
            tenant_id=fork.tenant_id,
            owner_id=fork.owner_id,
            scope=f"fork-{name}",
            role=role,
            grants=grants,
        )
        fork.credential = credential
        fork.save(update_fields=["credential"])
    except PlatformError as exc:
        report = _teardown(store=store, fork=fork)
        exc.details = {**exc.details, "cleanup_errors": report.errors}
        raise
    return handle_for(fork)


def _materialize(*, store: ObjectStore, fork: Fork, checkpoint: Checkpoint) -> None:
    store.bucket_create(
        bucket=fork.bucket,
        tags=bucket_tags(tenant_id=fork.tenant_id, kind="fork", expires_at=fork.expires_at),
    )
    store.bucket_enable_versioning(bucket=fork.bucket)
    days = max(1, math.ceil((fork.expires_at - timezone.now()).total_seconds() / 86400))
    store.bucket_set_expiry(bucket=fork.bucket, days=days)
    entries = ManifestEntry.objects.filter(checkpoint=checkpoint).values_list("key", "version_id", "size")
    for key, version_id, size in entries.iterator(chunk_size=2000):
        store.object_copy_version(
            src_bucket=checkpoint.bucket,
            key=key,
            version_id=version_id,
            size=size,
            dst_bucket=fork.bucket,
            dst_key=key,
        )


def checkpoint_restore(
    *,
    actor: Actor,
    checkpoint_id: int,
    fork_name: str,
    mode: str = ForkMode.OVERLAY,
    role: str = Role.EDITOR,
    ttl_s: int | None = None,
) -> StorageHandle:
    """Restore a checkpoint the actor may manage into a new fork named `fork_name` (a Conflict if taken)."""
    _validate(count=1, mode=mode, role=role)
    bucket_name_validate(fork_name, field="fork_name")
    checkpoint = _readable_checkpoint(actor=actor, checkpoint_id=checkpoint_id)
    expires_at = expiry_from_ttl(ttl_s)
    with traced_operation(
        "storage.checkpoint_restore", kind="storage", tenant_id=actor.tenant_id, fork=fork_name
    ):
        return _fork_create(
            store=admin_store(),
            actor=actor,
            checkpoint=checkpoint,
            fork_set=None,
            name=fork_name,
            mode=mode,
            role=role,
            expires_at=expires_at,
        )


def fork_get(*, actor: Actor, fork_id: int) -> Fork:
    fork = owned(Fork.objects.select_related("credential").filter(pk=fork_id), actor).first()
    if fork is None:
        raise NotFound("No such fork.")
    return fork


def fork_teardown(*, actor: Actor, fork_id: int) -> TeardownReport:
    fork = fork_get(actor=actor, fork_id=fork_id)
    with traced_operation("storage.fork_teardown", kind="storage", tenant_id=actor.tenant_id, fork=fork.name):
        return _teardown(store=admin_store(), fork=fork)


def forks_teardown(*, actor: Actor, fork_set_id: int) -> TeardownReport:
    """Tear down every fork of a set; one report with every error."""
    fork_set = owned(ForkSet.objects.filter(pk=fork_set_id), actor).first()
    if fork_set is None:
        raise NotFound("No such fork set.")
    report = TeardownReport()
    store = admin_store()
    with traced_operation("storage.forks_teardown", kind="storage", tenant_id=actor.tenant_id) as span:
        for fork in Fork.objects.select_related("credential").filter(fork_set=fork_set):
            report.merge(_teardown(store=store, fork=fork))
        span.set(forks=len(report.resources), errors=len(report.errors))
    return report


def _teardown(*, store: ObjectStore, fork: Fork) -> TeardownReport:
    report = TeardownReport(resources=[f"fork:{fork.name}"])
    if fork.status == Lifecycle.TORN_DOWN:
        return report
    teardown_revoke(store=store, row=fork, report=report)
    pinned = pinned_errors(fork)
    if pinned:
        report.errors.extend(pinned)
    else:
        report.errors.extend(
            location_empty(
                store=store,
                bucket=fork.bucket,
                prefix=fork.prefix,
                delete_bucket=fork.mode != ForkMode.OVERLAY,
            )
        )
    with transaction.atomic():
        if not report.errors:
            OverlayEntry.objects.filter(fork=fork).delete()
        teardown_record(row=fork, report=report)
        checkpoint = fork.checkpoint
        live = Fork.objects.filter(checkpoint=checkpoint).exclude(status=Lifecycle.TORN_DOWN)
        if checkpoint.internal and checkpoint.deleted_at is None and not live.exists():
            checkpoint.deleted_at = timezone.now()
            checkpoint.save(update_fields=["deleted_at"])
    return report
