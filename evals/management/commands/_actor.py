"""The actor a management command acts as: an operator of one tenant."""

from __future__ import annotations

from django.core.management.base import CommandError

from core.access import Actor
from core.models import Tenant


def command_actor(tenant_slug: str) -> Actor:
    tenant = Tenant.objects.filter(slug=tenant_slug).first()
    if tenant is None:
        raise CommandError(f"No tenant {tenant_slug!r} (manage.py seed_demo creates 'default').")
    return Actor.system(tenant_id=tenant.pk)
