"""Rows behind the storage primitives: credentials, workspaces, checkpoints, forks, coordination.

The object store holds bytes; PostgreSQL holds what the kit needs to stay
accountable for them: which checkpoint pins which object version, what each
fork has overwritten or deleted, which credential was minted for which scope,
and every webhook attempt. Rows are written only by `storage_kit.services`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

# Every row has a tenant and an owner: the user who created it, or NULL for rows the scheduler or
# an operator made (tenant admins reach those). core.access decides who reaches which.


class Role(models.TextChoices):
    EDITOR = "Editor"
    READ_ONLY = "ReadOnly"


class Lifecycle(models.TextChoices):
    ACTIVE = "active"
    TEARDOWN_FAILED = "teardown_failed"  # the sweeper retries
    TORN_DOWN = "torn_down"


class Credential(models.Model):
    """A key minted for one scope; secrets are stored encrypted (core.crypto)."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    strategy = models.CharField(max_length=16)
    role = models.CharField(max_length=16, choices=Role.choices)
    principal = models.CharField(max_length=128, help_text="IAM user name or STS session name.")
    access_key_id = models.CharField(max_length=128)
    secret_encrypted = models.TextField()
    session_token_encrypted = models.TextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.strategy}:{self.principal}"


class ScopedStorage(models.Model):
    """What a workspace and a fork share: scoped credentials, a lifecycle and a TTL."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EDITOR)
    credential = models.ForeignKey(Credential, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.ACTIVE)
    errors = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    torn_down_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Workspace(ScopedStorage):
    """A (bucket, prefix) owned by one run; the prefix is empty when the bucket is the workspace."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=63)
    bucket = models.CharField(max_length=63)
    prefix = models.CharField(max_length=200, blank=True, default="")
    owns_bucket = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=~models.Q(status="torn_down"), name="uniq_live_workspace_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Dataset(models.Model):
    """A source (bucket, prefix) an operator registered for a tenant: checkpoints, forks and
    coordinations of that tenant may use it. Registration is the only way a bucket the kit did
    not create becomes reachable (the platform's admin key reaches every bucket in the account)."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200)
    bucket = models.CharField(max_length=63, db_index=True)
    prefix = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "name"], name="uniq_dataset_name"),
            models.UniqueConstraint(fields=["bucket", "prefix"], name="uniq_dataset_location"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (s3://{self.bucket}/{self.prefix})"


class Checkpoint(models.Model):
    """A named, immutable snapshot of a versioned bucket (prefix): key -> pinned version."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bucket = models.CharField(max_length=63, db_index=True)
    prefix = models.CharField(max_length=200, blank=True, default="")
    name = models.CharField(max_length=200)
    object_count = models.PositiveIntegerField(default=0)
    total_bytes = models.BigIntegerField(default=0)
    internal = models.BooleanField(default=False, help_text="Taken by create_forks, not named by a user.")
    created_at = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True, help_text="Awaiting version GC.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "bucket", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="uniq_live_checkpoint_name",
            )
        ]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"{self.bucket}@{self.name}"


class ManifestEntry(models.Model):
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.CASCADE, related_name="entries")
    key = models.CharField(max_length=1024)
    version_id = models.CharField(max_length=1024)
    etag = models.CharField(max_length=128)
    size = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["checkpoint", "key"], name="uniq_manifest_key")]

    def __str__(self) -> str:
        return f"{self.key}@{self.version_id}"


class ForkSet(models.Model):
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_bucket = models.CharField(max_length=63)
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="fork_sets")
    requested = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.source_bucket} x{self.requested}"


class ForkMode(models.TextChoices):
    OVERLAY = "overlay"
    MATERIALIZED = "materialized"


class Fork(ScopedStorage):
    """A writable copy of a checkpoint: an overlay prefix, or a bucket of copies."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    fork_set = models.ForeignKey(
        ForkSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    name = models.CharField(max_length=63)
    mode = models.CharField(max_length=16, choices=ForkMode.choices, default=ForkMode.OVERLAY)
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="forks")
    bucket = models.CharField(max_length=63)
    prefix = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=~models.Q(status="torn_down"), name="uniq_live_fork_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class OverlayEntry(models.Model):
    """A key written (or deleted: a tombstone) in an overlay fork."""

    fork = models.ForeignKey(Fork, on_delete=models.CASCADE, related_name="overlay")
    key = models.CharField(max_length=1024)
    tombstone = models.BooleanField(default=False)
    version_id = models.CharField(max_length=1024, blank=True, default="")
    etag = models.CharField(max_length=128, blank=True, default="")
    size = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fork", "key"], name="uniq_overlay_key")]

    def __str__(self) -> str:
        return f"{self.key}{' (deleted)' if self.tombstone else ''}"


class Coordination(models.Model):
    """A webhook fired for objects written under `prefix` whose key matches `key_filter`."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    bucket = models.CharField(max_length=63, db_index=True)
    prefix = models.CharField(max_length=200, blank=True, default="")
    key_filter = models.CharField(max_length=500, blank=True, default="", help_text="A regular expression.")
    webhook_url = models.URLField(max_length=500)
    auth_token_encrypted = models.TextField(blank=True, default="")
    queue_url = models.CharField(max_length=500, blank=True, default="")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.bucket}/{self.prefix} -> {self.webhook_url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookDelivery(models.Model):
    """One event for one coordination: the outbox row and its delivery state."""

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    coordination = models.ForeignKey(Coordination, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["coordination", "event_id"], name="uniq_delivery_event")
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return str(self.event_id)


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    status_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    duration_ms = models.FloatField(default=0.0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
