"""Traces and their spans."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class SpanKind(models.TextChoices):
    RUN = "run"
    MODEL = "model"
    TOOL = "tool"
    MEMORY = "memory"
    POLICY = "policy"
    APPROVAL = "approval"
    WORKFLOW_STEP = "workflow_step"
    STORAGE = "storage"
    EVAL = "eval"
    OTHER = "other"


class Status(models.TextChoices):
    OK = "ok"
    ERROR = "error"


class Trace(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(
        "core.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The user whose request this traces; empty for background work (tenant admins only).",
    )
    name = models.CharField(max_length=200)
    started_at = models.DateTimeField(db_index=True)
    duration_ms = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["tenant", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class Span(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    trace = models.ForeignKey(Trace, on_delete=models.CASCADE, related_name="spans")
    parent_id = models.UUIDField(null=True, blank=True)
    seq = models.PositiveIntegerField(help_text="Order in which the span started within its trace.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=SpanKind.choices, default=SpanKind.OTHER)
    started_at = models.DateTimeField()
    duration_ms = models.FloatField(default=0.0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OK)
    attributes = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["trace", "seq"]
        indexes = [models.Index(fields=["trace", "seq"])]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"
