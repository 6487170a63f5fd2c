"""Building a run's request context from the authenticated caller and client-supplied keys."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import jsonschema

from core.context import RequestContext
from core.errors import ValidationFailed

# Keys only the platform sets; a client that sends them is refused, not ignored.
RESERVED_KEYS = frozenset(
    {"tenant", "tenantId", "tenant_id", "user", "userId", "user_id", "resourceId", "resource_id"}
)


def request_context_build(
    *,
    tenant_id: int,
    user_id: int | None,
    resource_id: str | None,
    client_values: Mapping[str, Any] | None,
    schema: dict[str, Any],
) -> RequestContext:
    """Validate client keys against the agent's request-context schema (undeclared keys are refused)."""
    values = dict(client_values or {})
    spoofed = sorted(RESERVED_KEYS.intersection(values))
    if spoofed:
        raise ValidationFailed(
            "Tenant, user and resource come from authentication and cannot be set in requestContext.",
            details={f"requestContext.{key}": ["This key is set by the platform."] for key in spoofed},
        )
    if values:
        declared = {"type": "object", "additionalProperties": False, "properties": {}, **schema}
        errors = sorted(
            jsonschema.Draft202012Validator(declared).iter_errors(values), key=lambda e: list(e.path)
        )
        if errors:
            details: dict[str, list[str]] = {}
            for error in errors:
                key = ".".join(["requestContext", *(str(p) for p in error.absolute_path)])
                details.setdefault(key, []).append(error.message)
            raise ValidationFailed("requestContext does not match the agent's schema.", details=details)
    return RequestContext(
        tenant_id=tenant_id,
        user_id=user_id,
        resource_id=resource_id
        if resource_id is not None
        else (str(user_id) if user_id is not None else None),
        values=MappingProxyType(values),
    )
