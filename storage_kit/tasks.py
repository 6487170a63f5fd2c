"""Celery tasks: thin adapters over the services, each with its retry policy."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from storage_kit.services import coordination, sweeper


@shared_task(acks_late=True)
def webhook_deliver(delivery_id: int) -> str:
    """One attempt; 5xx and timeouts schedule the next with exponential backoff, 4xx do not.

    The next attempt is a new message with a countdown (not `self.retry`), so the
    delivery row, not the broker, is the record of attempts; `webhooks_retry_due`
    re-enqueues any the broker lost.
    """
    outcome = coordination.webhook_attempt(delivery_id=delivery_id)
    if outcome == "retry":
        from storage_kit.models import WebhookDelivery

        attempts = WebhookDelivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        webhook_deliver.apply_async((delivery_id,), countdown=coordination.backoff_s(attempts))
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
