"""Reads, always scoped to one tenant (another tenant's object is simply not found)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import NotFound
from storage_kit.models import Checkpoint, Coordination, Fork, WebhookDelivery, Workspace


def workspace_list(*, tenant_id: int) -> QuerySet[Workspace]:
    return Workspace.objects.filter(tenant_id=tenant_id).order_by("-created_at")


def fork_list(*, tenant_id: int) -> QuerySet[Fork]:
    return Fork.objects.filter(tenant_id=tenant_id).order_by("-created_at")


def checkpoint_get_any(*, tenant_id: int, checkpoint_id: int) -> Checkpoint:
    checkpoint = Checkpoint.objects.filter(tenant_id=tenant_id, pk=checkpoint_id).first()
    if checkpoint is None:
        raise NotFound("No such checkpoint.")
    return checkpoint


def coordination_list(*, tenant_id: int) -> QuerySet[Coordination]:
    return Coordination.objects.filter(tenant_id=tenant_id).order_by("-created_at")


def delivery_list(*, tenant_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(tenant_id=tenant_id).order_by("-created_at")


def delivery_get(*, tenant_id: int, delivery_id: int) -> WebhookDelivery:
    delivery = (
        WebhookDelivery.objects.filter(tenant_id=tenant_id, pk=delivery_id)
        .prefetch_related("attempt_log")
        .first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery
