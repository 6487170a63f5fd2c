"""Celery tasks: thin adapters over the services, each with its retry policy."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from storage_kit.services import coordination, sweeper


@shared_task(bind=True, max_retries=None, acks_late=True)
def webhook_deliver(self: Any, delivery_id: int) -> str:
    """One attempt; 5xx and timeouts are retried with exponential backoff, 4xx are not."""
    outcome = coordination.webhook_attempt(delivery_id=delivery_id)
    if outcome == "retry":
        from storage_kit.models import WebhookDelivery

        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        raise self.retry(countdown=coordination.backoff_s(attempts), max_retries=settings.WEBHOOK_MAX_ATTEMPTS)
    return outcome


@shared_task
def webhooks_retry_due() -> int:
    """Re-enqueue deliveries whose retry is due (a lost task or a restarted worker)."""
    from django.utils import timezone

    from storage_kit.models import DeliveryStatus, WebhookDelivery

    due = WebhookDelivery.objects.filter(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now(), attempts__gt=0
    ).values_list("pk", flat=True)[:500]
    ids = list(due)
    for pk in ids:
        webhook_deliver.delay(pk)
    return len(ids)


@shared_task
def storage_sweep() -> dict[str, Any]:
    report = sweeper.storage_sweep()
    return {"torn_down": report.torn_down, "orphans": report.orphans_removed, "errors": len(report.errors)}


@shared_task
def versions_gc() -> int:
    return sweeper.versions_gc()


@shared_task
def notifications_poll() -> int:
    return coordination.notifications_poll()
