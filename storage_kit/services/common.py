"""Helpers the storage services share: validation, tags, emptying a location, handles."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import PlatformError, ValidationFailed
from storage_kit.backend import ObjectStore, StoreError, StoreNotFound
from storage_kit.credentials import credential_load, credential_revoke
from storage_kit.models import Checkpoint, Fork, Lifecycle, Workspace
from storage_kit.types import StorageHandle, TeardownReport

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IP_LIKE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
TAG_MANAGED = "storage-kit"
TAG_EXPIRES = "storage-kit-expires"
TAG_TENANT = "storage-kit-tenant"
_ensured: set[tuple[str, str]] = set()
_ensure_lock = threading.Lock()


def bucket_name_validate(name: str, *, field: str = "name") -> str:
    """S3 bucket naming rules; the error names the field and the rule."""
    if not _BUCKET_NAME.match(name) or ".." in name or _IP_LIKE.match(name) or name.startswith("xn--"):
        raise ValidationFailed(
            f"{name!r} is not a valid bucket name.",
            details={
                field: [
                    "3-63 characters: lowercase letters, digits, dots and hyphens, "
                    "starting and ending with a letter or digit, not an IP address."
                ]
            },
        )
    return name


def expiry_from_ttl(ttl_s: int | None) -> datetime:
    ttl = settings.STORAGE_DEFAULT_TTL_S if ttl_s is None else ttl_s
    if ttl <= 0:
        raise ValidationFailed("The TTL must be positive.", details={"ttl_s": ["Must be greater than 0."]})
    if ttl > settings.STORAGE_MAX_TTL_S:
        raise ValidationFailed(
            f"The TTL may be at most {settings.STORAGE_MAX_TTL_S} seconds.",
            details={"ttl_s": [f"At most {settings.STORAGE_MAX_TTL_S} (STORAGE_MAX_TTL_S)."]},
        )
    return timezone.now() + timedelta(seconds=ttl)


def bucket_tags(*, tenant_id: int, kind: str, expires_at: datetime) -> dict[str, str]:
    return {TAG_MANAGED: kind, TAG_EXPIRES: str(int(expires_at.timestamp())), TAG_TENANT: str(tenant_id)}


def shared_bucket_ensure(*, store: ObjectStore, bucket: str, versioned: bool) -> None:
    """Create a shared bucket (workspaces in prefix mode, fork overlays) once per process."""
    key = (settings.S3_ENDPOINT_URL, bucket)
    with _ensure_lock:
        if key in _ensured:
            return
        if not store.bucket_exists(bucket=bucket):
            store.bucket_create(bucket=bucket, tags={TAG_MANAGED: "shared"})
        if versioned and not store.bucket_versioning_enabled(bucket=bucket):
            store.bucket_enable_versioning(bucket=bucket)
        _ensured.add(key)


def location_empty(*, store: ObjectStore, bucket: str, prefix: str, delete_bucket: bool) -> list[str]:
    """Delete every version (and delete marker) under the prefix, then the bucket if asked.

    Returns one message per failure instead of raising: teardown continues past them.
    """
    errors: list[str] = []
    try:
        versions = [(v.key, v.version_id) for v in store.versions(bucket=bucket, prefix=prefix)]
        errors.extend(f"s3://{bucket}/{e}" for e in store.versions_delete(bucket=bucket, versions=versions))
    except StoreNotFound:
        return []
    except PlatformError as exc:
        return [f"s3://{bucket}/{prefix}: objects not deleted: {exc.message}"]
    if delete_bucket and not errors:
        try:
            store.bucket_delete(bucket=bucket)
        except StoreNotFound:
            pass
        except StoreError as exc:
            errors.append(f"s3://{bucket}: bucket not deleted: {exc.message}")
    return errors


def pinned_errors(row: Workspace | Fork) -> list[str]:
    """Why the row's objects may not be deleted yet, one line per blocker, each naming it and
    what to do: live checkpoints of its own tenant pin versions under its location (checkpoints
    of other tenants cannot exist there: they need an owned location).

    A checkpoint that `create_forks` took (internal: not listed, not deleted by hand) goes with
    the last of its forks, so for it the forks are named (one left without forks, when every
    fork failed, is named like any other checkpoint). Only what the row's owner owns is
    named (everything for a row without an owner); the rest is mentioned without names."""
    pinned = list(
        Checkpoint.objects.filter(
            tenant_id=row.tenant_id, bucket=row.bucket, prefix__startswith=row.prefix, deleted_at__isnull=True
        ).order_by("pk")
    )
    if not pinned:
        return []
    where = f"s3://{row.bucket}/{row.prefix}"

    def nameable(owner_id: int | None) -> bool:
        return row.owner_id is None or owner_id == row.owner_id

    live_forks = (
        Fork.objects.filter(checkpoint__in=pinned).exclude(status=Lifecycle.TORN_DOWN).order_by("name")
    )
    forks_of: dict[int, list[Fork]] = {}
    for fork in live_forks:
        forks_of.setdefault(fork.checkpoint_id, []).append(fork)
    errors: list[str] = []
    hidden = False
    fork_names: list[str] = []
    for checkpoint in pinned:
        forks = forks_of.get(checkpoint.pk, [])
        if not nameable(checkpoint.owner_id) or not all(nameable(f.owner_id) for f in forks):
            hidden = True
        elif checkpoint.internal and forks:
            fork_names.extend(f"{f.name} (fork {f.pk})" for f in forks)
        else:
            reading = (
                f"; forks still read from it, tear them down before deleting it: "
                f"{', '.join(f'{f.name} (fork {f.pk})' for f in forks)}"
                if forks
                else ""
            )
            errors.append(
                f"{where}: kept, checkpoint {checkpoint.name!r} (id {checkpoint.pk}) pins versions "
                f"under it; delete it (DELETE /api/storage/checkpoints/{checkpoint.pk}/) and tear "
                f"down again{reading}"
            )
    if fork_names:
        errors.append(
            f"{where}: kept, its forks still read the versions they were made from: "
            f"{', '.join(fork_names)}; tear them down (POST /api/storage/forks/<id>/teardown/, "
            f"or teardown_forks for their fork set) and tear down again"
        )
    if hidden:
        errors.append(
            f"{where}: kept, checkpoints or forks of another owner pin versions under it; "
            f"a tenant admin can remove them"
        )
    return errors


def handle_for(row: Workspace | Fork) -> StorageHandle:
    """The handle a tool receives (credentials decrypted from the row's key)."""
    is_fork = isinstance(row, Fork)
    return StorageHandle(
        kind="fork" if is_fork else "workspace",
        id=row.pk,
        tenant_id=row.tenant_id,
        name=row.name,
        bucket=row.bucket,
        prefix=row.prefix,
        role=row.role,
        mode=row.mode if isinstance(row, Fork) else "workspace",
        expires_at=row.expires_at,
        credentials=credential_load(row.credential) if row.credential else None,
        checkpoint_id=row.checkpoint_id if isinstance(row, Fork) else None,
    )


def teardown_revoke(*, store: ObjectStore, row: Workspace | Fork, report: TeardownReport) -> None:
    """Revoke the row's scoped key, first thing in a teardown; a failure goes into the report."""
    if row.credential is None:
        return
    try:
        credential_revoke(store=store, credential=row.credential)
    except PlatformError as exc:
        report.errors.append(f"key {row.credential.access_key_id} not revoked: {exc.message}")


def teardown_record(*, row: Workspace | Fork, report: TeardownReport) -> None:
    """Torn down, or `teardown_failed` with its errors for the sweeper to retry (inside the caller's transaction)."""
    row.errors = report.errors
    row.status = Lifecycle.TEARDOWN_FAILED if report.errors else Lifecycle.TORN_DOWN
    row.torn_down_at = None if report.errors else timezone.now()
    row.save(update_fields=["errors", "status", "torn_down_at"])
