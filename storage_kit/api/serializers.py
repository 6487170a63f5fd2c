"""Output and input shapes of the storage API. Credentials are never serialised."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import fields
from storage_kit.models import Coordination, Dataset, Fork, ForkMode, Role, WebhookDelivery, Workspace
from storage_kit.types import CheckpointInfo, StorageHandle


class WorkspaceOut(serializers.ModelSerializer[Workspace]):
    class Meta:
        model = Workspace
        fields = [
            "id",
            "name",
            "bucket",
            "prefix",
            "role",
            "status",
            "errors",
            "expires_at",
            "created_at",
            "torn_down_at",
        ]


class ForkOut(serializers.ModelSerializer[Fork]):
    class Meta:
        model = Fork
        fields = [
            "id", "name", "mode", "bucket", "prefix", "role", "checkpoint_id", "fork_set_id",
            "status", "errors", "expires_at", "created_at", "torn_down_at",
        ]  # fmt: skip


class DatasetOut(serializers.ModelSerializer[Dataset]):
    class Meta:
        model = Dataset
        fields = ["id", "name", "bucket", "prefix", "created_at"]


class CoordinationOut(serializers.ModelSerializer[Coordination]):
    store_notifications = serializers.SerializerMethodField()

    class Meta:
        model = Coordination
        fields = ["id", "bucket", "prefix", "key_filter", "webhook_url", "store_notifications", "active",
                  "created_at"]  # fmt: skip

    def get_store_notifications(self, obj: Coordination) -> bool:
        return bool(obj.queue_url)


class HandleOut(serializers.Serializer[StorageHandle]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    bucket = serializers.CharField()
    prefix = serializers.CharField()
    role = serializers.CharField()
    mode = serializers.CharField()
    expires_at = serializers.DateTimeField()


class CheckpointOut(serializers.Serializer[CheckpointInfo]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    bucket = serializers.CharField()
    prefix = serializers.CharField()
    object_count = serializers.IntegerField()
    total_bytes = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class AttemptOut(serializers.Serializer[dict[str, object]]):
    number = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()


class DeliveryOut(serializers.ModelSerializer[WebhookDelivery]):
    attempt_log = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "coordination_id", "payload", "status", "attempts", "next_attempt_at",
                  "created_at", "delivered_at", "attempt_log"]  # fmt: skip

    @extend_schema_field(AttemptOut(many=True))
    def get_attempt_log(self, obj: WebhookDelivery) -> list[dict[str, object]]:
        return [
            {"number": a.number, "status_code": a.status_code, "error": a.error, "at": a.at.isoformat()}
            for a in obj.attempt_log.all()
        ]


class WorkspaceIn(serializers.Serializer[dict[str, object]]):
    name = fields.CharField(max_length=63)
    ttl_s = fields.IntegerField(min_value=1, max_value=settings.STORAGE_MAX_TTL_S, required=False)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EDITOR)
    shared_bucket = fields.BooleanField(default=False)


class ForksIn(serializers.Serializer[dict[str, object]]):
    count = fields.IntegerField()
    source_bucket = fields.CharField(max_length=63, required=False)
    source_prefix = fields.CharField(max_length=200, required=False, default="", allow_blank=True)
    checkpoint_id = fields.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    mode = serializers.ChoiceField(choices=ForkMode.choices, default=ForkMode.OVERLAY)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EDITOR)
    ttl_s = fields.IntegerField(min_value=1, max_value=settings.STORAGE_MAX_TTL_S, required=False)
    name_prefix = fields.CharField(max_length=50, required=False)


class CheckpointIn(serializers.Serializer[dict[str, object]]):
    bucket = fields.CharField(max_length=63)
    name = fields.CharField(max_length=200)
    prefix = fields.CharField(max_length=200, required=False, default="", allow_blank=True)


class CoordinationIn(serializers.Serializer[dict[str, object]]):
    bucket = fields.CharField(max_length=63)
    webhook_url = fields.CharField(max_length=500)
    prefix = fields.CharField(max_length=200, required=False, default="", allow_blank=True)
    key_filter = fields.CharField(max_length=500, required=False, default="", allow_blank=True)
    auth_token = fields.CharField(
        max_length=500, required=False, default="", allow_blank=True, write_only=True
    )
    store_notifications = fields.BooleanField(default=False)


class RestoreIn(serializers.Serializer[dict[str, object]]):
    fork_name = fields.CharField(max_length=63)
    mode = serializers.ChoiceField(choices=ForkMode.choices, default=ForkMode.OVERLAY)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.EDITOR)
    ttl_s = fields.IntegerField(min_value=1, max_value=settings.STORAGE_MAX_TTL_S, required=False)


class CheckpointListQuery(serializers.Serializer[dict[str, object]]):
    bucket = fields.CharField(max_length=63, required=False)
    limit = fields.IntegerField(min_value=1, max_value=500, default=50)
    cursor = fields.CharField(max_length=100, required=False)


class ReportOut(serializers.Serializer[dict[str, object]]):
    """A teardown's aggregated result: what was removed, and every error."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # `errors` cannot be a class attribute: it is `Serializer.errors`.
        return {
            "ok": serializers.BooleanField(),
            "resources": serializers.ListField(child=serializers.CharField()),
            "errors": serializers.ListField(child=serializers.CharField()),
        }


class ForksOut(serializers.Serializer[dict[str, object]]):
    fork_set_id = serializers.IntegerField(allow_null=True)
    checkpoint_id = serializers.IntegerField(allow_null=True)
    forks = HandleOut(many=True)
    failures = serializers.ListField(child=serializers.JSONField())


class CheckpointPage(serializers.Serializer[dict[str, object]]):
    results = CheckpointOut(many=True)
    next_cursor = serializers.CharField(allow_null=True)
