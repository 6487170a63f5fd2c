"""The request context every run, tool and workflow step receives.

Tenant and user always come from the authenticated caller (or the scheduler),
never from client input. `values` holds the client-supplied keys the agent's
request-context schema declares. `resources` carries handles the orchestrator
provisioned (for example a storage workspace with its credentials); they are
excluded from `repr`, serialisation, prompts and traces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestContext:
    tenant_id: int
    user_id: int | None = None
    resource_id: str | None = None
    values: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    resources: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False, compare=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def with_resources(self, **resources: Any) -> RequestContext:
        merged = {**self.resources, **resources}
        return RequestContext(
            tenant_id=self.tenant_id,
            user_id=self.user_id,
            resource_id=self.resource_id,
            values=self.values,
            resources=MappingProxyType(merged),
        )

    def as_public_dict(self) -> dict[str, Any]:
        """What may be stored on a run or shown in a trace (never the resources)."""
        return {
            "tenant_id": self.tenant_id,
            "user_id": self.user_id,
            "resource_id": self.resource_id,
            "values": dict(self.values),
        }
