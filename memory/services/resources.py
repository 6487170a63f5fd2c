"""Which memory resource a caller may act for."""

from __future__ import annotations

from core.access import Actor
from core.errors import NotFound


def memory_resource_for(*, actor: Actor, requested: str | None) -> str:
    """The resource id the actor acts for: its own user id, or for a tenant admin any
    resource of the tenant. A member naming another resource gets "not found", as if it
    did not exist (resources are not probed)."""
    own = str(actor.user_id) if actor.user_id is not None else ""
    if not requested or requested == own:
        if not own:
            raise NotFound("Resource not found.", details={"resourceId": ["not found"]})
        return own
    if not actor.is_tenant_admin:
        raise NotFound("Resource not found.", details={"resourceId": ["not found"]})
    return requested
