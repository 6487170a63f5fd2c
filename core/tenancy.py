"""Tenant resolution for authenticated users."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from core.api.authentication import MEMBERSHIP_READ
from core.errors import NotAuthenticated
from core.models import Membership, Tenant

DEFAULT_TENANT_SLUG = "default"


def tenant_get_or_create(*, slug: str, name: str = "") -> Tenant:
    tenant, _ = Tenant.objects.get_or_create(slug=slug, defaults={"name": name or slug})
    return tenant


@transaction.atomic
def membership_set(*, user: AbstractBaseUser, tenant: Tenant) -> Membership:
    membership, _ = Membership.objects.update_or_create(user_id=user.pk, defaults={"tenant": tenant})
    return membership


def tenant_for_user(user: AbstractBaseUser | AnonymousUser) -> Tenant:
    """The tenant an authenticated user acts in.

    A user without a membership is placed in the default tenant, so a fresh
    `createsuperuser` works without extra steps.
    """
    if not user.is_authenticated:
        raise NotAuthenticated()
    if getattr(user, MEMBERSHIP_READ, False):  # read with the API token, in this request
        membership = getattr(user, "membership", None)
    else:
        membership = Membership.objects.select_related("tenant").filter(user_id=user.pk).first()
    if membership is not None:
        return membership.tenant
    tenant = tenant_get_or_create(slug=DEFAULT_TENANT_SLUG, name="Default")
    return membership_set(user=user, tenant=tenant).tenant
