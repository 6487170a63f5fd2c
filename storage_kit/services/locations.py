"""Which (bucket, prefix) locations a caller may point the kit at, and dataset registration.

The kit acts with the platform's admin key, which reaches every bucket in the account, so a
bucket named by a client is accepted only inside a location the caller owns: a live workspace
or fork it may manage, or a dataset registered for its tenant. Any other bucket answers
exactly like one that does not exist.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q

from core.access import Actor, owned, visible
from core.errors import Conflict, NotFound, ValidationFailed
from storage_kit.models import Dataset, Fork, Lifecycle, Workspace
from storage_kit.services.common import bucket_name_validate


def bucket_not_found(bucket: str, *, field: str = "bucket") -> NotFound:
    """The one answer for a bucket that is missing and for one the caller does not own."""
    return NotFound(f"Bucket {bucket!r} does not exist.", details={field: ["Not found."]})


def _prefixes(*, actor: Actor, bucket: str) -> list[str]:
    live = ~Q(status=Lifecycle.TORN_DOWN)
    prefixes = list(
        owned(Workspace.objects.filter(live, bucket=bucket), actor).values_list("prefix", flat=True)
    )
    prefixes += owned(Fork.objects.filter(live, bucket=bucket), actor).values_list("prefix", flat=True)
    prefixes += visible(Dataset.objects.filter(bucket=bucket), actor).values_list("prefix", flat=True)
    return prefixes


def location_authorize(
    *, actor: Actor, bucket: str, prefix: str = "", field: str = "bucket", whole_bucket: bool = False
) -> None:
    """Accept (bucket, prefix) only inside a location the actor owns; otherwise `bucket_not_found`.

    `whole_bucket` asks for a location that is the entire bucket (bucket-wide settings such as
    store notifications).
    """
    bucket_name_validate(bucket, field=field)
    owned_prefixes = _prefixes(actor=actor, bucket=bucket)
    if whole_bucket:
        if "" not in owned_prefixes:
            raise bucket_not_found(bucket, field=field)
        return
    if not any(prefix.startswith(p) for p in owned_prefixes):
        raise bucket_not_found(bucket, field=field)


def _kit_managed(bucket: str) -> bool:
    if bucket in {settings.STORAGE_WORKSPACE_BUCKET, settings.STORAGE_FORKS_BUCKET}:
        return True
    return Workspace.objects.filter(bucket=bucket).exists() or Fork.objects.filter(bucket=bucket).exists()


def dataset_validate(*, name: str, bucket: str, prefix: str) -> None:
    """Field checks of a registration (the admin form shows them next to the fields)."""
    bucket_name_validate(bucket, field="bucket")
    if not name or len(name) > 200:
        raise ValidationFailed("A dataset needs a name.", details={"name": ["1-200 characters."]})
    if len(prefix) > 200 or "\x00" in prefix:
        raise ValidationFailed("Invalid prefix.", details={"prefix": ["At most 200 characters, no NUL."]})
    if _kit_managed(bucket):
        raise ValidationFailed(
            f"Bucket {bucket!r} holds workspaces or forks and cannot be registered as a dataset.",
            details={"bucket": ["Managed by the storage kit."]},
        )


def dataset_register(
    *, tenant_id: int, name: str, bucket: str, prefix: str = "", owner_id: int | None = None
) -> Dataset:
    """Register a source location for a tenant: an operator's decision (the admin, or code).

    Refused: buckets the kit manages (workspaces, forks, the shared buckets), and locations that
    overlap another tenant's dataset. `owner_id` None makes it tenant-wide (every member may use it).
    """
    dataset_validate(name=name, bucket=bucket, prefix=prefix)
    with transaction.atomic():
        others = Dataset.objects.select_for_update().filter(bucket=bucket).exclude(tenant_id=tenant_id)
        if any(p.startswith(prefix) or prefix.startswith(p) for p in others.values_list("prefix", flat=True)):
            raise Conflict(
                f"s3://{bucket}/{prefix} overlaps a dataset of another tenant.",
                details={"prefix": ["Overlaps another tenant's dataset."]},
            )
        try:
            with transaction.atomic():
                return Dataset.objects.create(
                    tenant_id=tenant_id, owner_id=owner_id, name=name, bucket=bucket, prefix=prefix
                )
        except IntegrityError:
            raise Conflict(
                "A dataset with this name or location is already registered.", details={"name": ["Taken."]}
            ) from None
