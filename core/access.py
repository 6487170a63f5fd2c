"""The owner model: who may reach which object.

Every object belongs to a tenant and has an owner (the user who created it, or for
tenant-wide objects none). An `Actor` is the authenticated caller as the services see
it. Selectors and services filter with `owned()` / `visible()` and raise `NotFound` on
a miss, so another owner's object is indistinguishable from one that does not exist.
Views never decide access themselves. The rules are written down in docs/security.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Model, Q, QuerySet

from core.context import RequestContext
from core.errors import NotAuthenticated
from core.models import Membership
from core.tenancy import tenant_for_user

M = TypeVar("M", bound=Model)


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """The caller: a user acting inside one tenant with a role."""

    tenant_id: int
    user_id: int | None
    is_tenant_admin: bool = False

    @classmethod
    def system(cls, *, tenant_id: int) -> Actor:
        """The scheduler or an operator's admin action: every object of the tenant."""
        return cls(tenant_id=tenant_id, user_id=None, is_tenant_admin=True)

    def may_manage(self, owner_id: int | None) -> bool:
        """Whether this actor may read and change an object owned by `owner_id`."""
        return self.is_tenant_admin or (self.user_id is not None and owner_id == self.user_id)


def actor_for_user(user: AbstractBaseUser | AnonymousUser) -> Actor:
    """The actor for an authenticated user (a user without a membership joins the default tenant)."""
    if not user.is_authenticated:
        raise NotAuthenticated()
    tenant = tenant_for_user(user)
    role = Membership.objects.filter(user_id=user.pk).values_list("role", flat=True).first()
    return Actor(tenant_id=tenant.pk, user_id=user.pk, is_tenant_admin=role == Membership.Role.ADMIN)


def actor_from_context(ctx: RequestContext, *, is_tenant_admin: bool = False) -> Actor:
    return Actor(tenant_id=ctx.tenant_id, user_id=ctx.user_id, is_tenant_admin=is_tenant_admin)


def owned(
    queryset: QuerySet[M], actor: Actor, *, tenant_field: str = "tenant_id", owner_field: str = "owner_id"
) -> QuerySet[M]:
    """Objects of the actor's tenant that the actor may manage: its own, or all for a tenant admin."""
    queryset = queryset.filter(**{tenant_field: actor.tenant_id})
    if actor.is_tenant_admin:
        return queryset
    if actor.user_id is None:
        return queryset.none()
    return queryset.filter(**{owner_field: actor.user_id})


def visible(
    queryset: QuerySet[M], actor: Actor, *, tenant_field: str = "tenant_id", owner_field: str = "owner_id"
) -> QuerySet[M]:
    """Objects the actor may read: its own and the tenant-wide ones (no owner); all for a tenant admin."""
    queryset = queryset.filter(**{tenant_field: actor.tenant_id})
    if actor.is_tenant_admin:
        return queryset
    return queryset.filter(Q(**{f"{owner_field}__isnull": True}) | Q(**{owner_field: actor.user_id}))


def tenant_wide(queryset: QuerySet[M], actor: Actor, *, tenant_field: str = "tenant_id") -> QuerySet[M]:
    """Objects every member of the actor's tenant may read, whoever owns them (tenant-wide by
    design: agents, the knowledge base). Changing them is still checked with `owned()`."""
    return queryset.filter(**{tenant_field: actor.tenant_id})
