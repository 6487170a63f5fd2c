"""TTL sweep and version garbage collection (Celery beat jobs call these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from core.access import Actor
from core.errors import PlatformError
from observability.tracing import traced_operation
from storage_kit.backend import admin_store
from storage_kit.models import Checkpoint, Fork, ForkMode, Lifecycle, ManifestEntry, Workspace
from storage_kit.services import forks as fork_services
from storage_kit.services import workspaces as workspace_services
from storage_kit.services.common import TAG_EXPIRES, TAG_MANAGED, location_empty
from storage_kit.services.locations import location_authorize


@dataclass(kw_only=True)
class SweepReport:
    torn_down: list[str] = field(default_factory=list)
    orphans_removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def storage_sweep() -> SweepReport:
    """Tear down expired workspaces and forks (and retry failed teardowns); remove tagged orphan buckets."""
    report = SweepReport()
    now = timezone.now()
    store = admin_store()
    due = Q(status=Lifecycle.TEARDOWN_FAILED) | Q(status=Lifecycle.ACTIVE, expires_at__lte=now)
    with traced_operation("storage.sweep", kind="storage", tenant_id=None) as span:
        for workspace in Workspace.objects.select_related("credential").filter(due):
            result = workspace_services._teardown(store=store, workspace=workspace)
            (
                report.errors.extend(result.errors)
                if result.errors
                else report.torn_down.append(workspace.name)
            )
        for fork in Fork.objects.select_related("credential", "checkpoint").filter(due):
            result = fork_services._teardown(store=store, fork=fork)
            (report.errors.extend(result.errors) if result.errors else report.torn_down.append(fork.name))
        _orphans(report=report, now_ts=now.timestamp())
        span.set(
            torn_down=len(report.torn_down), orphans=len(report.orphans_removed), errors=len(report.errors)
        )
    return report


def _orphans(*, report: SweepReport, now_ts: float) -> None:
    """Expired buckets the kit tagged but no live row accounts for (the row was never written)."""
    store = admin_store()
    try:
        names = store.bucket_names()
    except PlatformError as exc:
        report.errors.append(f"buckets not listed: {exc.message}")
        return
    live = set(Workspace.objects.exclude(status=Lifecycle.TORN_DOWN).values_list("bucket", flat=True))
    live |= set(
        Fork.objects.exclude(status=Lifecycle.TORN_DOWN)
        .filter(mode=ForkMode.MATERIALIZED)
        .values_list("bucket", flat=True)
    )
    live |= set(Checkpoint.objects.filter(deleted_at__isnull=True).values_list("bucket", flat=True))
    for name in names:
        if name in live:
            continue
        try:
            tags = store.bucket_tags(bucket=name)
        except PlatformError:
            continue
        if tags.get(TAG_MANAGED) not in {"workspace", "fork"}:
            continue
        try:
            expired = float(tags.get(TAG_EXPIRES, "inf")) <= now_ts
        except ValueError:
            expired = False
        if not expired:
            continue
        errors = location_empty(store=store, bucket=name, prefix="", delete_bucket=True)
        (report.errors.extend(errors) if errors else report.orphans_removed.append(name))


def versions_gc() -> int:
    """Delete noncurrent versions that no live checkpoint pins, in buckets whose checkpoints were deleted.

    Current versions are never touched. Returns the number of versions deleted.
    """
    store = admin_store()
    deleted = 0
    buckets = set(
        Checkpoint.objects.filter(deleted_at__isnull=False, entries__isnull=False).values_list(
            "bucket", flat=True
        )
    )
    with traced_operation("storage.versions_gc", kind="storage", tenant_id=None) as span:
        for bucket in buckets:
            pinned = set(
                ManifestEntry.objects.filter(
                    checkpoint__bucket=bucket, checkpoint__deleted_at__isnull=True
                ).values_list("key", "version_id")
            )
            try:
                garbage = [
                    (v.key, v.version_id)
                    for v in store.versions(bucket=bucket, prefix="")
                    if not v.is_latest and not v.is_delete_marker and (v.key, v.version_id) not in pinned
                ]
                errors = store.versions_delete(bucket=bucket, versions=garbage)
            except PlatformError:
                continue  # retried on the next run
            if not errors:
                deleted += len(garbage)
                ManifestEntry.objects.filter(
                    checkpoint__bucket=bucket, checkpoint__deleted_at__isnull=False
                ).delete()
        span.set(deleted=deleted)
    return deleted


def source_delete(*, actor: Actor, bucket: str) -> None:
    """Delete a whole source bucket the actor owns (a dataset of its tenant); refused while checkpoints or forks pin it."""
    from core.errors import Conflict

    location_authorize(actor=actor, bucket=bucket, whole_bucket=True)
    if (
        Checkpoint.objects.filter(bucket=bucket, deleted_at__isnull=True).exists()
        or Fork.objects.filter(checkpoint__bucket=bucket).exclude(status=Lifecycle.TORN_DOWN).exists()
    ):
        raise Conflict(
            f"Bucket {bucket!r} has live checkpoints or forks; delete them first.",
            details={"bucket": ["Pinned."]},
        )
    errors = location_empty(store=admin_store(), bucket=bucket, prefix="", delete_bucket=True)
    if errors:
        raise PlatformError(f"Bucket {bucket!r} was not fully deleted.", details={"errors": errors})
