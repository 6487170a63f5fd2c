"""OpenTelemetry (OTLP/HTTP) export of stored traces, with GenAI semantic conventions.

Enabled by `OTEL_EXPORTER_OTLP_ENDPOINT`. Spans are exported after redaction,
from the same rows that were stored, through a batching processor so export
never sits on the request path.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from observability.models import Span, Trace

# Our attribute names -> GenAI semantic convention names.
_GENAI_ATTRIBUTES = {
    "model": "gen_ai.request.model",
    "provider": "gen_ai.system",
    "input_tokens": "gen_ai.usage.input_tokens",
    "output_tokens": "gen_ai.usage.output_tokens",
    "finish_reason": "gen_ai.response.finish_reasons",
    "tool_name": "gen_ai.tool.name",
    "tool_call_id": "gen_ai.tool.call.id",
    "agent_id": "gen_ai.agent.id",
}
_OPERATION = {"model": "chat", "tool": "execute_tool", "run": "invoke_agent"}


@lru_cache(maxsize=1)
def _provider() -> TracerProvider | None:
    endpoint = settings.OTEL_EXPORTER_OTLP_ENDPOINT
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": settings.OTEL_SERVICE_NAME}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces"))
    )
    return provider


def _otel_value(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    return json.dumps(value, default=str)


def otel_attributes(kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"span.kind.platform": kind}
    if kind in _OPERATION:
        result["gen_ai.operation.name"] = _OPERATION[kind]
    for key, value in attributes.items():
        if value is None:
            continue
        result[_GENAI_ATTRIBUTES.get(key, f"platform.{key}")] = _otel_value(value)
    return result


def export_trace(*, trace_row: Trace, span_rows: Sequence[Span]) -> None:
    provider = _provider()
    if provider is None:
        return
    from opentelemetry import trace as otel_trace
    from opentelemetry.trace import Status, StatusCode

    tracer = provider.get_tracer("agent-platform")
    started: dict[Any, Any] = {}
    for row in span_rows:
        parent = started.get(row.parent_id)
        ctx = otel_trace.set_span_in_context(parent) if parent is not None else None
        start_ns = int(row.started_at.timestamp() * 1e9)
        span = tracer.start_span(
            row.name,
            context=ctx,
            start_time=start_ns,
            attributes=otel_attributes(row.kind, {**row.attributes, "trace_id": str(trace_row.id)}),
        )
        if row.status == "error":
            span.set_status(Status(StatusCode.ERROR, row.error))
        started[row.id] = span
        span.end(end_time=start_ns + int(row.duration_ms * 1e6))
