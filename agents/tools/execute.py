"""Running one tool in isolation (for testing tools from the API or the admin)."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import ValidationError

from agents.models import Tool
from agents.runtime.tool_exec import execute_sync
from agents.runtime.turn import PreparedCall
from agents.tools.registry import registry
from core.context import RequestContext
from core.errors import Disabled, Forbidden, NotFound, UpstreamError, ValidationFailed
from observability.tracing import trace_start


class ToolFailed(UpstreamError):
    code = "tool_failed"


def tool_execute_check(*, tool_id: str, is_staff: bool) -> Tool:
    """Load the tool and check the caller may run it: staff, or a tool without side effects."""
    tool = Tool.objects.filter(id=tool_id, in_code=True).first()
    if tool is None or registry.get(tool_id) is None:
        raise NotFound(f"Tool {tool_id!r} not found.")
    if not tool.enabled:
        raise Disabled(f"Tool {tool_id!r} is disabled by an operator.", details={"tool": tool_id})
    if not is_staff and tool.side_effect != Tool.SideEffect.NONE:
        raise Forbidden(
            f"Only staff may run tool {tool_id!r} in isolation: its side effect is {tool.side_effect}."
        )
    return tool


def tool_execute(*, tool_id: str, data: dict[str, Any], context: RequestContext) -> dict[str, Any]:
    """Validate `data` against the tool's input model, run it with its timeout, trace it; return its output.

    Input the schema refuses, or the tool refuses (`ToolInputError`), is a 400; a tool that
    raises anything else, times out or returns output its schema refuses is a 502 `tool_failed`.
    """
    definition = registry.get(tool_id)
    if definition is None:
        raise NotFound(f"Tool {tool_id!r} not found.")
    try:
        args = definition.input_model.model_validate(data)
    except ValidationError as error:
        details: dict[str, list[str]] = {}
        for problem in error.errors():
            key = ".".join(str(p) for p in problem["loc"]) or "data"
            details.setdefault(f"data.{key}", []).append(problem["msg"])
        raise ValidationFailed("The tool's input is invalid.", details=details) from error
    call = PreparedCall(id=f"call_{uuid.uuid4().hex[:12]}", name=tool_id, arguments="", input=data, args=args)
    call.definition = definition
    trace = trace_start(name=f"tool.execute {tool_id}", tenant_id=context.tenant_id, owner_id=context.user_id)
    outcome = execute_sync(call, trace=trace, context=context, ids={"agent_id": ""})
    trace.flush()
    if outcome.rejected:
        field = f"data.{outcome.rejected_field}" if outcome.rejected_field else "data"
        raise ValidationFailed(
            outcome.error, details={field: [outcome.error or "Refused."], "traceId": str(trace.id)}
        )
    if outcome.error is not None:
        raise ToolFailed(outcome.error, details={"traceId": str(trace.id)})
    return {"output": outcome.output, "traceId": str(trace.id)}
