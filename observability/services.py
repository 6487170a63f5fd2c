"""Writes for traces: persistence (redacted) and export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.db import fast_commit
from observability.export import export_trace
from observability.models import Span as SpanRow
from observability.models import Trace as TraceRow

if TYPE_CHECKING:
    from observability.tracing import Trace


def trace_persist(*, trace: Trace) -> None:
    """Write a finished trace and its spans in one transaction, redacted first."""
    from observability.tracing import redacted_attributes, redacted_error

    trace_row = TraceRow(
        id=trace.id,
        tenant_id=trace.tenant_id,
        name=trace.name,
        started_at=trace.started_at,
        duration_ms=trace.duration_ms,
        status=trace.status,
        attributes=redacted_attributes(trace.attributes),
    )
    span_rows = [
        SpanRow(
            id=span.id,
            trace_id=trace.id,
            parent_id=span.parent_id,
            seq=span.seq,
            name=span.name,
            kind=span.kind,
            started_at=trace.span_started_at(span),
            duration_ms=span.duration_ms,
            status=span.status,
            attributes=redacted_attributes(span.attributes),
            error=redacted_error(span),
        )
        for span in trace.spans
    ]
    with fast_commit():
        trace_row.save(force_insert=True)
        SpanRow.objects.bulk_create(span_rows)
    export_trace(trace_row=trace_row, span_rows=span_rows)
