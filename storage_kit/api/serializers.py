"""Output and input shapes of the storage API. Credentials are never serialised."""

from __future__ import annotations

from rest_framework import serializers

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


class DeliveryOut(serializers.ModelSerializer[WebhookDelivery]):
    attempt_log = serializers.SerializerMethodField()

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "coordination_id", "payload", "status", "attempts", "next_attempt_at",
                  "created_at", "delivered_at", "attempt_log"]  # fmt: skip

    def get_attempt_log(self, obj: WebhookDelivery) -> list[dict[str, object]]:
        return [
            {"number": a.number, "status_code": a.status_code, "error": a.error, "at": a.at.isoformat()}
            for a in obj.attempt_log.all()
        ]


class WorkspaceIn(serializers.Serializer[dict[str, object]]):
    name = serializers.CharField(max_length=63)
    ttl_s = serializers.IntegerField(min_value=1, required=False)
    role = serializers.ChoiceField(choices=Role.values, default=Role.EDITOR)
    shared_bucket = serializers.BooleanField(default=False)


class ForksIn(serializers.Serializer[dict[str, object]]):
    count = serializers.IntegerField()
    source_bucket = serializers.CharField(max_length=63, required=False)
    source_prefix = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    checkpoint_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    mode = serializers.ChoiceField(choices=ForkMode.values, default=ForkMode.OVERLAY)
    role = serializers.ChoiceField(choices=Role.values, default=Role.EDITOR)
    ttl_s = serializers.IntegerField(min_value=1, required=False)
    name_prefix = serializers.CharField(max_length=50, required=False)


class CheckpointIn(serializers.Serializer[dict[str, object]]):
    bucket = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=200)
    prefix = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class CoordinationIn(serializers.Serializer[dict[str, object]]):
    bucket = serializers.CharField(max_length=63)
    webhook_url = serializers.CharField(max_length=500)
    prefix = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    key_filter = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    auth_token = serializers.CharField(
        max_length=500, required=False, default="", allow_blank=True, write_only=True
    )
    store_notifications = serializers.BooleanField(default=False)


class RestoreIn(serializers.Serializer[dict[str, object]]):
    fork_name = serializers.CharField(max_length=63)
    mode = serializers.ChoiceField(choices=ForkMode.values, default=ForkMode.OVERLAY)
    role = serializers.ChoiceField(choices=Role.values, default=Role.EDITOR)
    ttl_s = serializers.IntegerField(min_value=1, required=False)
