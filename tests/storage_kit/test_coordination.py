from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from core.errors import ValidationFailed
from storage_kit.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery
from storage_kit.services.coordination import coordination_setup, coordination_teardown, notifications_poll
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from tests.storage_kit.conftest import SIGNING_SECRET, unique

TOKEN = "coord-token-planted-9d2c"


@pytest.fixture
def workspace(s3_settings, tenant, actor):
    handle = workspace_create(actor=actor, name=unique("coord"))
    yield handle
    workspace_teardown(actor=actor, workspace_id=handle.id)


def test_webhook_retried_on_5xx_delivered_once_per_event(
    workspace, tenant, actor, webhook_receiver, django_capture_on_commit_callbacks
):
    coordination_setup(
        actor=actor,
        bucket=workspace.bucket,
        prefix="reports/",
        key_filter=r"\.json$",
        webhook_url=webhook_receiver.url,
        auth_token=TOKEN,
    )
    webhook_receiver.script = [500, 500]
    with django_capture_on_commit_callbacks(execute=True):
        workspace.objects.put("reports/r1.json", '{"score": 1}')
        workspace.objects.put("reports/r1.txt", "filtered out")
        workspace.objects.put("drafts/r2.json", "outside the prefix")
    received = webhook_receiver.received
    assert [r["status"] for r in received] == [500, 500, 200]
    ids = {r["headers"]["X-StorageKit-Event-Id"] for r in received}
    assert len(ids) == 1
    body = received[-1]["body"]
    assert json.loads(body)["key"] == "reports/r1.json"
    assert json.loads(body)["event_id"] == ids.pop()
    expected = "sha256=" + hmac.new(SIGNING_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert received[-1]["headers"]["X-StorageKit-Signature"] == expected
    assert received[-1]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("status_code", flat=True)) == [
        500,
        500,
        200,
    ]


def test_webhook_not_retried_on_4xx(
    workspace, tenant, actor, webhook_receiver, django_capture_on_commit_callbacks
):
    coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url=webhook_receiver.url)
    webhook_receiver.script = [404]
    with django_capture_on_commit_callbacks(execute=True):
        workspace.objects.put("a.txt", "x")
    assert [r["status"] for r in webhook_receiver.received] == [404]
    assert WebhookDelivery.objects.get().status == DeliveryStatus.FAILED


def test_store_notifications_and_kit_writes_deduplicate(
    workspace, tenant, actor, webhook_receiver, django_capture_on_commit_callbacks
):
    info = coordination_setup(
        actor=actor,
        bucket=workspace.bucket,
        webhook_url=webhook_receiver.url,
        store_notifications=True,
    )
    assert info.store_notifications
    with django_capture_on_commit_callbacks(execute=True):
        workspace.objects.put("out/x.txt", "through the kit")
    # A write with plain S3 (the store notifies SQS) and the kit's own write seen again through SQS.
    from storage_kit.backend import scoped_store

    scoped_store(workspace.credentials).object_put(bucket=workspace.bucket, key="out/y.txt", body=b"plain")
    with django_capture_on_commit_callbacks(execute=True):
        notifications_poll()
    keys = sorted(json.loads(r["body"])["key"] for r in webhook_receiver.received)
    assert keys == ["out/x.txt", "out/y.txt"]
    assert coordination_teardown(actor=actor, coordination_id=info.id).ok


def test_invalid_coordination_input(workspace, tenant, actor):
    with pytest.raises(ValidationFailed) as excinfo:
        coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url="ftp://x", key_filter="(")
    assert "webhook_url" in excinfo.value.details
    with pytest.raises(ValidationFailed) as excinfo:
        coordination_setup(actor=actor, bucket=workspace.bucket, webhook_url="http://x", key_filter="(")
    assert "key_filter" in excinfo.value.details


def test_a_pathological_key_filter_cannot_stall_writes(
    workspace, actor, webhook_receiver, django_capture_on_commit_callbacks
):
    """`(a|aa)+$` backtracks exponentially on this key; the filter gives up and treats it as no match."""
    coordination_setup(
        actor=actor, bucket=workspace.bucket, webhook_url=webhook_receiver.url, key_filter="(a|aa)+$"
    )
    with django_capture_on_commit_callbacks(execute=True):
        workspace.objects.put("a" * 60 + "b", "x")
        workspace.objects.put("aaaa", "x")
    assert [json.loads(r["body"])["key"] for r in webhook_receiver.received] == ["aaaa"]


def test_without_a_signing_secret_the_api_answers_503_naming_the_setting(workspace, api_client, settings):
    settings.WEBHOOK_SIGNING_SECRET = ""
    response = api_client.post(
        "/api/storage/coordinations/",
        {"bucket": workspace.bucket, "webhook_url": "http://127.0.0.1:1/x"},
        format="json",
    )
    assert response.status_code == 503, response.content
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "WEBHOOK_SIGNING_SECRET" in body["message"]
    assert body["details"] == {"missing_setting": "WEBHOOK_SIGNING_SECRET"}
    assert api_client.get("/api/storage/coordinations/").json()["results"] == []
