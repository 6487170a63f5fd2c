"""Who the caller acts for: the actor (tenant, user, role) and the memory resource."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.request import Request

from core.access import Actor, actor_for_user
from core.errors import ValidationFailed
from memory.services import memory_resource_for


@dataclass(frozen=True, kw_only=True)
class Owner:
    actor: Actor
    resource_id: str

    @property
    def tenant_id(self) -> int:
        return self.actor.tenant_id


def owner_for(request: Request, explicit: str | None = None) -> Owner:
    """The caller and the resource it acts for (its own user id unless a tenant admin names one)."""
    actor = actor_for_user(request.user)
    queried = request.query_params.get("resourceId")
    if queried is not None and not 0 < len(queried) <= 200:
        raise ValidationFailed(
            "resourceId must be 1 to 200 characters.", details={"resourceId": ["1 to 200 characters."]}
        )
    explicit = explicit or queried or None
    return Owner(actor=actor, resource_id=memory_resource_for(actor=actor, requested=explicit))
