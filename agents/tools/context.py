"""What a tool receives besides its validated arguments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from core.context import RequestContext
from observability.tracing import Span


class ToolSuspended(Exception):
    """Raised by `ToolContext.suspend`: the tool stops here and the run waits for resume data."""

    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("suspended")
        self.payload = payload


class SuspendPayloadInvalid(Exception):
    """A tool suspended itself with a payload its `suspend_schema` refuses (a developer mistake)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolContext:
    """The request context (tenant, user, declared keys, provisioned resources), ids and the tool's span.

    `idempotency_key` is stable for one tool call of one run (the run id and the tool call
    id), across a suspension and a resume in another process: a tool with side effects
    passes it to the system it changes. `resume_data` is set when the call is resumed after
    `suspend()` (an instance of the tool's `resume_schema`, or a dict without one).
    """

    request_context: RequestContext
    agent_id: str
    run_id: str | None = None
    thread_id: str | None = None
    tool_call_id: str | None = None
    span: Span | None = None
    resume_data: Any = None
    suspend_schema: type[BaseModel] | None = None
    model: str = ""  # the run's model (`provider/model`, the first of its chain); empty outside a run

    @property
    def tenant_id(self) -> int:
        return self.request_context.tenant_id

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id or '-'}:{self.tool_call_id or '-'}"

    def suspend(self, payload: BaseModel | dict[str, Any] | None = None) -> NoReturn:
        """Stop this call and the run; it waits for resume data (REST, WebSocket, or the user's
        next message with auto-resume). The tool is then called again with `ctx.resume_data`.

        The payload is validated against the tool's `suspend_schema` when it declares one.
        """
        if isinstance(payload, BaseModel):
            data: dict[str, Any] = payload.model_dump(mode="json")
        else:
            data = dict(payload or {})
        if self.suspend_schema is not None:
            try:
                data = self.suspend_schema.model_validate(data).model_dump(mode="json")
            except ValidationError as error:
                raise SuspendPayloadInvalid(
                    f"suspend payload does not match suspend_schema: {error}"
                ) from error
        raise ToolSuspended(data)
