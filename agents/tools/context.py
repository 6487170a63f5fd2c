"""What a tool receives besides its validated arguments."""

from __future__ import annotations

from dataclasses import dataclass

from core.context import RequestContext
from observability.tracing import Span


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolContext:
    """The request context (tenant, user, declared keys, provisioned resources), ids and the tool's span."""

    request_context: RequestContext
    agent_id: str
    run_id: str | None = None
    thread_id: str | None = None
    tool_call_id: str | None = None
    span: Span | None = None

    @property
    def tenant_id(self) -> int:
        return self.request_context.tenant_id
