"""Who the caller acts for: the tenant from the user, the owner (resource) from the user or, for staff, explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.request import Request

from core.errors import Forbidden
from core.tenancy import tenant_for_user


@dataclass(frozen=True, kw_only=True)
class Owner:
    tenant_id: int
    resource_id: str


def owner_for(request: Request, explicit: str | None = None) -> Owner:
    """The default resource id is the user's id; only staff may name another resource."""
    tenant = tenant_for_user(request.user)
    own = str(request.user.pk)
    explicit = explicit or request.query_params.get("resourceId") or None
    if explicit and explicit != own and not request.user.is_staff:
        raise Forbidden("Only staff may act for another resource.", details={"resourceId": ["not yours"]})
    return Owner(tenant_id=tenant.pk, resource_id=explicit or own)
