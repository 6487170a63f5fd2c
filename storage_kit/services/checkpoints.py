"""Checkpoints: immutable manifests (key -> pinned version) of a versioned bucket, in PostgreSQL."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from core.access import Actor, owned
from core.errors import Conflict, NotFound, ValidationFailed
from observability.tracing import traced_operation
from storage_kit.backend import StoreNotFound, VersionInfo, admin_store
from storage_kit.models import Checkpoint, Fork, Lifecycle, ManifestEntry
from storage_kit.services.locations import bucket_not_found, location_authorize
from storage_kit.types import CheckpointInfo, Page


def checkpoint_info(checkpoint: Checkpoint) -> CheckpointInfo:
    return CheckpointInfo(
        id=checkpoint.pk,
        name=checkpoint.name,
        bucket=checkpoint.bucket,
        prefix=checkpoint.prefix,
        object_count=checkpoint.object_count,
        total_bytes=checkpoint.total_bytes,
        created_at=checkpoint.created_at,
    )


def _latest(versions: Iterator[VersionInfo]) -> Iterator[VersionInfo]:
    for version in versions:
        if version.is_latest and not version.is_delete_marker:
            yield version


def checkpoint_create(
    *, actor: Actor, bucket: str, name: str, prefix: str = "", internal: bool = False, field: str = "bucket"
) -> CheckpointInfo:
    """Pin the current version of every object under `prefix`; fails clearly on an unversioned bucket.

    Only inside a location the actor owns (its workspaces, forks, its tenant's datasets); any
    other bucket is answered as missing.
    """
    if not name or len(name) > 200:
        raise ValidationFailed("A checkpoint needs a name.", details={"name": ["1-200 characters."]})
    location_authorize(actor=actor, bucket=bucket, prefix=prefix, field=field)
    tenant_id = actor.tenant_id
    store = admin_store()
    try:
        versioned = store.bucket_versioning_enabled(bucket=bucket)
    except StoreNotFound:
        raise bucket_not_found(bucket, field=field) from None
    if not versioned:
        raise ValidationFailed(
            f"Bucket {bucket!r} has no versioning, so its objects cannot be pinned. Enable it first: "
            f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled",
            details={field: ["Versioning is not enabled."]},
        )
    if Checkpoint.objects.filter(
        tenant_id=tenant_id, bucket=bucket, name=name, deleted_at__isnull=True
    ).exists():
        raise Conflict(f"Checkpoint {name!r} already exists on {bucket!r}.", details={"name": ["Taken."]})
    with traced_operation(
        "storage.checkpoint_create", kind="storage", tenant_id=tenant_id, bucket=bucket
    ) as span:
        with transaction.atomic():
            checkpoint = Checkpoint.objects.create(
                tenant_id=tenant_id,
                owner_id=actor.user_id,
                bucket=bucket,
                prefix=prefix,
                name=name,
                internal=internal,
            )
            count, total = _manifest_copy(
                checkpoint.pk, _latest(store.versions(bucket=bucket, prefix=prefix))
            )
            checkpoint.object_count, checkpoint.total_bytes = count, total
            checkpoint.save(update_fields=["object_count", "total_bytes"])
        span.set(objects=count, bytes=total)
    return checkpoint_info(checkpoint)


def _manifest_copy(checkpoint_id: int, versions: Iterator[VersionInfo]) -> tuple[int, int]:
    """Bulk-load the manifest with COPY (one round trip per buffer, not per row)."""
    table = ManifestEntry._meta.db_table
    count = total = 0
    with connection.cursor() as cursor:
        raw: Any = cursor.cursor
        sql = f"COPY {table} (checkpoint_id, key, version_id, etag, size) FROM STDIN"
        with raw.copy(sql) as copy:
            for v in versions:
                copy.write_row((checkpoint_id, v.key, v.version_id, v.etag, v.size))
                count += 1
                total += v.size
    return count, total


def checkpoint_get(*, actor: Actor, checkpoint_id: int) -> Checkpoint:
    """A live checkpoint the actor may manage (its own; any of the tenant's for a tenant admin)."""
    checkpoint = owned(Checkpoint.objects.filter(pk=checkpoint_id, deleted_at__isnull=True), actor).first()
    if checkpoint is None:
        raise NotFound(
            "No such checkpoint.", details={"checkpoint_id": [f"Unknown checkpoint {checkpoint_id}."]}
        )
    return checkpoint


def checkpoint_list(
    *,
    actor: Actor,
    bucket: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
    internal: bool = False,
) -> Page[CheckpointInfo]:
    """Newest first; `cursor` is the opaque `next_cursor` of the previous page."""
    limit = max(1, min(limit, 500))
    qs = owned(Checkpoint.objects.filter(deleted_at__isnull=True), actor)
    if not internal:
        qs = qs.filter(internal=False)
    if bucket:
        qs = qs.filter(bucket=bucket)
    if cursor:
        try:
            last_id = int(base64.urlsafe_b64decode(cursor.encode()).decode())
            if not 0 < last_id < 2**63:
                raise ValueError(cursor)
        except ValueError:
            raise ValidationFailed(
                "Invalid cursor.", details={"cursor": ["Not a cursor from this API."]}
            ) from None
        qs = qs.filter(pk__lt=last_id)
    rows = list(qs.order_by("-pk")[: limit + 1])
    next_cursor = (
        base64.urlsafe_b64encode(str(rows[limit - 1].pk).encode()).decode() if len(rows) > limit else None
    )
    return Page(items=[checkpoint_info(c) for c in rows[:limit]], next_cursor=next_cursor)


def checkpoint_delete(*, actor: Actor, checkpoint_id: int) -> None:
    """Forget a checkpoint; version GC later removes versions nothing else pins."""
    checkpoint = checkpoint_get(actor=actor, checkpoint_id=checkpoint_id)
    live = Fork.objects.filter(checkpoint=checkpoint).exclude(status=Lifecycle.TORN_DOWN)
    if live.exists():
        raise Conflict(
            "Forks still read from this checkpoint; tear them down first.",
            details={"forks": list(live.values_list("name", flat=True))},
        )
    checkpoint.deleted_at = timezone.now()
    checkpoint.save(update_fields=["deleted_at"])
