"""Coordination: signed, at-least-once webhooks for objects written under a watched prefix.

Events come from writes through the kit (a transactional outbox: the delivery
row commits with the write, the task is enqueued after commit) and, where the
store supports it, from the store's own notifications (S3 -> SQS, polled by a
beat task). The event id is derived from (bucket, key, version) when there is
a version, so both paths yield one delivery for one write.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from datetime import timedelta
from functools import partial
from typing import Any

import regex
import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.access import Actor, owned
from core.crypto import decrypt, encrypt
from core.egress import TargetRefused, pinned_post, target_check
from core.errors import NotFound, PlatformError, ServiceUnavailable, ValidationFailed
from observability.redaction import register_secret
from observability.tracing import traced_operation
from storage_kit.backend import admin_store
from storage_kit.models import Coordination, DeliveryAttempt, DeliveryStatus, WebhookDelivery
from storage_kit.services.locations import location_authorize
from storage_kit.types import CoordinationInfo, TeardownReport

_EVENT_NS = uuid.UUID("6f1c1d1e-8a53-4c55-9a57-7a0f3c2b9e10")
SIGNATURE_HEADER = "X-StorageKit-Signature"
KEY_FILTER_TIMEOUT_S = 0.05
logger = logging.getLogger(__name__)
EVENT_ID_HEADER = "X-StorageKit-Event-Id"


def _info(c: Coordination) -> CoordinationInfo:
    return CoordinationInfo(
        id=c.pk,
        bucket=c.bucket,
        prefix=c.prefix,
        key_filter=c.key_filter,
        webhook_url=c.webhook_url,
        store_notifications=bool(c.queue_url),
    )


def coordination_setup(
    *,
    actor: Actor,
    bucket: str,
    webhook_url: str,
    prefix: str = "",
    key_filter: str = "",
    auth_token: str = "",
    store_notifications: bool = False,
) -> CoordinationInfo:
    """Watch (bucket, prefix) for writes whose key matches `key_filter` (a regular expression).

    The location must be one the actor owns (store notifications: a whole bucket it owns), and
    the webhook must resolve to a public address or one in WEBHOOK_ALLOWED_HOSTS. Without
    WEBHOOK_SIGNING_SECRET nothing can be signed: ServiceUnavailable, naming the setting.
    """
    if not webhook_url.startswith(("http://", "https://")) or len(webhook_url) > 500:
        raise ValidationFailed(
            "Invalid webhook URL.", details={"webhook_url": ["An http(s) URL of at most 500 characters."]}
        )
    try:
        regex.compile(key_filter)
    except regex.error as exc:
        raise ValidationFailed("Invalid key filter.", details={"key_filter": [str(exc)]}) from None
    if not settings.WEBHOOK_SIGNING_SECRET:  # every delivery is signed with it (`sign`)
        raise ServiceUnavailable(
            "Coordinations are not configured on this server: set the environment variable "
            "WEBHOOK_SIGNING_SECRET (the key webhook deliveries are signed with).",
            details={"missing_setting": "WEBHOOK_SIGNING_SECRET"},
        )
    location_authorize(actor=actor, bucket=bucket, prefix=prefix, whole_bucket=store_notifications)
    target_check(webhook_url, field="webhook_url")
    register_secret(auth_token)
    tenant_id = actor.tenant_id
    with traced_operation("storage.coordination_setup", kind="storage", tenant_id=tenant_id, bucket=bucket):
        coordination = Coordination.objects.create(
            tenant_id=tenant_id,
            owner_id=actor.user_id,
            bucket=bucket,
            prefix=prefix,
            key_filter=key_filter,
            webhook_url=webhook_url,
            auth_token_encrypted=encrypt(auth_token) if auth_token else "",
        )
        if store_notifications:
            store = admin_store()
            url, arn = store.queue_create(name=f"{settings.STORAGE_NAME_PREFIX}-coord-{coordination.pk}")
            coordination.queue_url = url
            coordination.save(update_fields=["queue_url"])
            store.bucket_notify_queue(bucket=bucket, queue_arn=arn, prefix=prefix)
    return _info(coordination)


def coordination_get(*, actor: Actor, coordination_id: int) -> Coordination:
    """A coordination the actor may manage (its own; any of the tenant's for a tenant admin)."""
    coordination = owned(Coordination.objects.filter(pk=coordination_id), actor).first()
    if coordination is None:
        raise NotFound("No such coordination.")
    return coordination


def coordination_teardown(*, actor: Actor, coordination_id: int) -> TeardownReport:
    coordination = coordination_get(actor=actor, coordination_id=coordination_id)
    report = TeardownReport(resources=[f"coordination:{coordination.pk}"])
    if coordination.queue_url:
        try:
            admin_store().queue_delete(queue_url=coordination.queue_url)
        except PlatformError as exc:
            report.errors.append(f"queue {coordination.queue_url} not deleted: {exc.message}")
    coordination.active = False
    coordination.save(update_fields=["active"])
    return report


def _key_matches(key_filter: str, key: str) -> bool:
    """A client's regular expression, run with a time limit (a pathological pattern matches nothing)."""
    if not key_filter:
        return True
    try:
        return regex.search(key_filter, key, timeout=KEY_FILTER_TIMEOUT_S) is not None
    except TimeoutError:
        logger.warning("A coordination's key filter ran out of time and was treated as no match.")
        return False


def event_id_for(*, bucket: str, key: str, version_id: str) -> uuid.UUID:
    if version_id and version_id != "null":
        return uuid.uuid5(_EVENT_NS, f"{bucket}/{key}#{version_id}")
    return uuid.uuid4()


def event_record(
    *, tenant_id: int | None, bucket: str, key: str, version_id: str, etag: str, size: int
) -> int:
    """Write an outbox row for each matching coordination; enqueue delivery after commit."""
    matches = [
        c
        for c in Coordination.objects.filter(bucket=bucket, active=True)
        if key.startswith(c.prefix)
        and _key_matches(c.key_filter, key)
        and (tenant_id is None or c.tenant_id == tenant_id)
    ]
    event_id = event_id_for(bucket=bucket, key=key, version_id=version_id)
    payload = {
        "event_id": str(event_id),
        "type": "object.created",
        "bucket": bucket,
        "key": key,
        "version_id": version_id,
        "etag": etag,
        "size": size,
        "at": timezone.now().isoformat(),
    }
    created = 0
    for coordination in matches:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    tenant_id=coordination.tenant_id,
                    owner_id=coordination.owner_id,
                    coordination=coordination,
                    event_id=event_id,
                    payload={**payload, "coordination_id": coordination.pk},
                    next_attempt_at=timezone.now(),
                )
        except IntegrityError:
            continue  # the same write seen twice (kit API and store notification)
        created += 1
        transaction.on_commit(partial(_enqueue, delivery.pk))
    return created


def _enqueue(delivery_id: int) -> None:
    from storage_kit.tasks import webhook_deliver

    webhook_deliver.delay(delivery_id)


def sign(body: bytes) -> str:
    digest = hmac.new(settings.WEBHOOK_SIGNING_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_attempt(*, delivery_id: int) -> str:
    """One delivery attempt, recorded. Returns `delivered`, `retry` (5xx, timeout) or `failed` (4xx, exhausted)."""
    delivery = WebhookDelivery.objects.select_related("coordination").get(pk=delivery_id)
    if delivery.status != DeliveryStatus.PENDING:
        return str(delivery.status)
    coordination = delivery.coordination
    body = json.dumps(delivery.payload, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        EVENT_ID_HEADER: str(delivery.event_id),
        SIGNATURE_HEADER: sign(body),
    }
    if coordination.auth_token_encrypted:
        token = decrypt(coordination.auth_token_encrypted)
        register_secret(token)
        headers["Authorization"] = f"Bearer {token}"
    number = delivery.attempts + 1
    status_code: int | None = None
    error = ""
    started = time.perf_counter()
    refused = False
    with traced_operation("storage.webhook_deliver", kind="storage", tenant_id=delivery.tenant_id) as span:
        try:
            # Resolved and checked again now (the name may point elsewhere since registration),
            # and the connection goes to the address that was checked.
            response = pinned_post(
                coordination.webhook_url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_S
            )
            status_code = response.status_code
        except TargetRefused as exc:
            refused, error = True, f"TargetRefused: {exc}"
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}"
        span.set(event_id=str(delivery.event_id), attempt=number, status_code=status_code)
    outcome = "failed" if refused else _outcome(status_code, number)
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            status_code=status_code,
            error=error,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        delivery.attempts = number
        if outcome == "delivered":
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                DeliveryStatus.DELIVERED,
                timezone.now(),
                None,
            )
        elif outcome == "failed":
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = timezone.now() + timedelta(seconds=backoff_s(number))
        delivery.save(update_fields=["attempts", "status", "delivered_at", "next_attempt_at"])
    return outcome


def _outcome(status_code: int | None, number: int) -> str:
    if status_code is not None and 200 <= status_code < 300:
        return "delivered"
    if status_code is not None and 400 <= status_code < 500:
        return "failed"
    return "failed" if number >= settings.WEBHOOK_MAX_ATTEMPTS else "retry"


def backoff_s(attempt: int) -> float:
    return float(settings.WEBHOOK_BACKOFF_BASE_S * (2 ** (attempt - 1)))


def notifications_poll() -> int:
    """Read S3 -> SQS notifications for every coordination with a queue; returns events recorded."""
    store = admin_store()
    recorded = 0
    for coordination in Coordination.objects.filter(active=True).exclude(queue_url=""):
        for receipt, body in store.queue_receive(queue_url=coordination.queue_url):
            for record in _records(body):
                obj = record.get("s3", {}).get("object", {})
                bucket = record.get("s3", {}).get("bucket", {}).get("name", coordination.bucket)
                key = requests.utils.unquote(obj.get("key", ""))
                etag = str(obj.get("eTag", "")).strip('"')
                recorded += event_record(
                    tenant_id=coordination.tenant_id,
                    bucket=bucket,
                    key=key,
                    version_id=obj.get("versionId") or _current_version(bucket=bucket, key=key, etag=etag),
                    etag=etag,
                    size=int(obj.get("size", 0)),
                )
            store.queue_ack(queue_url=coordination.queue_url, receipt=receipt)
    return recorded


def _current_version(*, bucket: str, key: str, etag: str) -> str:
    """Stores that omit `versionId` from notifications: take the current version if it is this write."""
    try:
        info = admin_store().object_head(bucket=bucket, key=key)
    except PlatformError:
        return ""
    return info.version_id if info.etag == etag else ""


def _records(body: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(body)
    except ValueError:
        return []
    records = data.get("Records", []) if isinstance(data, dict) else []
    return [r for r in records if str(r.get("eventName", "")).startswith("ObjectCreated")]
