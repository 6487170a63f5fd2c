"""Running validated tool calls: timeouts, errors returned to the model, a span per call.

A tool that raises an unexpected exception is reported by the exception's type only (to the
model, the client and the trace): its text can carry server paths, queries or data. The whole
exception goes to the log, with the trace and call ids.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

from pydantic import BaseModel, ValidationError

from agents.runtime.turn import PreparedCall, ToolOutcome
from agents.tools.context import ToolContext, ToolSuspended
from agents.tools.registry import ToolInputError
from core.context import RequestContext
from core.db import db_to_async, releasing
from observability.redaction import scrub_text
from observability.tracing import Span, Trace

logger = logging.getLogger(__name__)

_pool = concurrent.futures.ThreadPoolExecutor(max_workers=8, thread_name_prefix="tool")


def _open_span(trace: Trace, call: PreparedCall) -> Span:
    definition = call.definition
    return trace.start_span(
        "tool.call",
        kind="tool",
        tool_name=call.name,
        tool_call_id=call.id,
        side_effect=definition.side_effect if definition else None,
        input=call.input,
    )


def _context(
    base: RequestContext, call: PreparedCall, span: Span, ids: dict[str, Any], resume: dict[str, Any] | None
) -> ToolContext:
    definition = call.definition
    resume_data = None
    if resume and call.id in resume:
        resume_data = resume[call.id]
        schema = definition.resume_schema if definition is not None else None
        if schema is not None and isinstance(resume_data, dict):
            resume_data = schema.model_validate(resume_data)  # validated by the service already
        span.set(resumed=True)
    return ToolContext(
        request_context=base,
        tool_call_id=call.id,
        span=span,
        resume_data=resume_data,
        suspend_schema=definition.suspend_schema if definition is not None else None,
        **ids,
    )


def _suspended(span: Span, call: PreparedCall, suspended: ToolSuspended) -> ToolOutcome:
    span.set(status="suspended", suspend_payload=suspended.payload)
    span.end()
    return ToolOutcome(id=call.id, name=call.name, suspended=suspended.payload)


def _ok(span: Span, call: PreparedCall, output: Any, ctx: ToolContext) -> ToolOutcome:
    span.set(
        status="ok", latency_ms=round(span.duration_ms, 3), retries=0, side_effect_id=ctx.idempotency_key
    )
    span.end()
    return ToolOutcome(id=call.id, name=call.name, output=output)


def _output(call: PreparedCall, value: Any) -> Any:
    assert call.definition is not None  # noqa: S101 - only prepared calls with a definition run
    model = call.definition.output_model
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return model.model_validate(value).model_dump(mode="json")


def _fail(span: Span, call: PreparedCall, message: str) -> ToolOutcome:
    message = scrub_text(message)
    span.record_error(message)
    span.set(latency_ms=round(span.duration_ms, 3), retries=0)  # a tool call is never retried by the runtime
    span.end()
    return ToolOutcome(id=call.id, name=call.name, error=message)


def _rejected(span: Span, call: PreparedCall, error: ToolInputError) -> ToolOutcome:
    """The tool refused its input: an error for the model, a 400 for a direct execution."""
    span.set(status="rejected")
    outcome = _fail(span, call, f"Tool {call.name!r} refused its input: {error.message}")
    outcome.rejected, outcome.rejected_field = True, error.field
    return outcome


def _crashed(span: Span, call: PreparedCall, error: Exception) -> ToolOutcome:
    """The tool raised something unexpected: its type for the model and the client, the rest in the log."""
    logger.error("tool %s failed (trace %s, call %s)", call.name, span.trace.id, call.id, exc_info=error)
    return _fail(span, call, f"Tool {call.name!r} failed with an unexpected error ({type(error).__name__}).")


def _finished(span: Span, call: PreparedCall, value: Any, ctx: ToolContext) -> ToolOutcome:
    """The tool returned: its output, once its schema accepts it (the refusal's detail in the log only)."""
    try:
        output = _output(call, value)
    except ValidationError as error:
        logger.error(
            "tool %s returned output its schema refuses (trace %s, call %s)",
            call.name,
            span.trace.id,
            call.id,
            exc_info=error,
        )
        return _fail(span, call, f"Tool {call.name!r} returned output its schema refuses.")
    return _ok(span, call, output, ctx)


def _refused(span: Span, call: PreparedCall) -> ToolOutcome:
    span.set(status="refused")
    return _fail(span, call, call.error or "refused")


def execute_sync(
    call: PreparedCall,
    *,
    trace: Trace,
    context: RequestContext,
    ids: dict[str, Any],
    resume: dict[str, Any] | None = None,
) -> ToolOutcome:
    span = _open_span(trace, call)
    if call.error is not None or call.definition is None:
        return _refused(span, call)
    definition = call.definition
    ctx = _context(context, call, span, ids, resume)
    future = _pool.submit(releasing(definition.function), ctx, call.args) if not definition.is_async else None
    try:
        if future is not None:
            value = future.result(timeout=definition.timeout_s)
        else:
            value = asyncio.run(asyncio.wait_for(definition.function(ctx, call.args), definition.timeout_s))
    except ToolSuspended as suspended:
        return _suspended(span, call, suspended)
    except ToolInputError as error:
        return _rejected(span, call, error)
    except (TimeoutError, concurrent.futures.TimeoutError):
        return _fail(span, call, f"Tool {call.name!r} timed out after {definition.timeout_s:g} s.")
    except Exception as error:
        return _crashed(span, call, error)
    return _finished(span, call, value, ctx)


async def execute_async(
    call: PreparedCall,
    *,
    trace: Trace,
    context: RequestContext,
    ids: dict[str, Any],
    resume: dict[str, Any] | None = None,
) -> ToolOutcome:
    span = _open_span(trace, call)
    if call.error is not None or call.definition is None:
        return _refused(span, call)
    definition = call.definition
    ctx = _context(context, call, span, ids, resume)
    try:
        if definition.is_async:
            value = await asyncio.wait_for(definition.function(ctx, call.args), definition.timeout_s)
        else:
            run = db_to_async(definition.function)
            value = await asyncio.wait_for(run(ctx, call.args), definition.timeout_s)
    except ToolSuspended as suspended:
        return _suspended(span, call, suspended)
    except ToolInputError as error:
        return _rejected(span, call, error)
    except TimeoutError:
        return _fail(span, call, f"Tool {call.name!r} timed out after {definition.timeout_s:g} s.")
    except Exception as error:
        return _crashed(span, call, error)
    return _finished(span, call, value, ctx)


def execute_many_sync(
    calls: list[PreparedCall],
    *,
    trace: Trace,
    context: RequestContext,
    ids: dict[str, Any],
    resume: dict[str, Any] | None = None,
) -> list[ToolOutcome]:
    """Several calls run in parallel threads; results keep the model's order."""
    if len(calls) == 1:
        return [execute_sync(calls[0], trace=trace, context=context, ids=ids, resume=resume)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [
            pool.submit(execute_sync, c, trace=trace, context=context, ids=ids, resume=resume) for c in calls
        ]
        return [f.result() for f in futures]


async def execute_many_async(
    calls: list[PreparedCall],
    *,
    trace: Trace,
    context: RequestContext,
    ids: dict[str, Any],
    resume: dict[str, Any] | None = None,
) -> list[ToolOutcome]:
    if len(calls) == 1:
        return [await execute_async(calls[0], trace=trace, context=context, ids=ids, resume=resume)]
    return list(
        await asyncio.gather(
            *(execute_async(c, trace=trace, context=context, ids=ids, resume=resume) for c in calls)
        )
    )
