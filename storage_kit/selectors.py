"""Reads, scoped by the owner model (core.access): a member reaches its own objects, a tenant
admin every object of its tenant; anything else is simply not found."""

from __future__ import annotations

from django.db.models import QuerySet

from core.access import Actor, owned, visible
from core.errors import NotFound
from storage_kit.models import Coordination, Dataset, Fork, WebhookDelivery, Workspace


def workspace_list(*, actor: Actor) -> QuerySet[Workspace]:
    return owned(Workspace.objects.all(), actor).order_by("-created_at", "-pk")


def fork_list(*, actor: Actor) -> QuerySet[Fork]:
    return owned(Fork.objects.all(), actor).order_by("-created_at", "-pk")


def coordination_list(*, actor: Actor) -> QuerySet[Coordination]:
    return owned(Coordination.objects.all(), actor).order_by("-created_at", "-pk")


def delivery_list(*, actor: Actor) -> QuerySet[WebhookDelivery]:
    return owned(WebhookDelivery.objects.all(), actor).order_by("-created_at", "-pk")


def delivery_get(*, actor: Actor, delivery_id: int) -> WebhookDelivery:
    delivery = (
        owned(WebhookDelivery.objects.filter(pk=delivery_id), actor).prefetch_related("attempt_log").first()
    )
    if delivery is None:
        raise NotFound("No such delivery.")
    return delivery


def dataset_list(*, actor: Actor) -> QuerySet[Dataset]:
    """The tenant's registered datasets (tenant-wide ones, and the actor's own)."""
    return visible(Dataset.objects.all(), actor).order_by("name", "pk")


def dataset_get(*, actor: Actor, dataset_id: int) -> Dataset:
    dataset = visible(Dataset.objects.filter(pk=dataset_id), actor).first()
    if dataset is None:
        raise NotFound("No such dataset.")
    return dataset
