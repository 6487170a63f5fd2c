"""Writes for traces: persistence (redacted, one round trip) and export."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.conf import settings

from core.db import Statement, execute_batch
from core.writebehind import writer
from observability.export import export_trace
from observability.models import Span as SpanRow
from observability.models import Trace as TraceRow
from observability.redaction import Redactor

if TYPE_CHECKING:
    from observability.tracing import Trace

_TRACE_SQL = f"""INSERT INTO {TraceRow._meta.db_table}
    (id, tenant_id, owner_id, name, started_at, duration_ms, status, attributes)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)"""  # noqa: S608 - table name from model metadata
_SPANS_SQL = f"""INSERT INTO {SpanRow._meta.db_table}
    (id, trace_id, parent_id, seq, name, kind, started_at, duration_ms, status, attributes, error)
    SELECT id, trace_id, parent_id, seq, name, kind, started_at, duration_ms, status, attributes, error
    FROM jsonb_to_recordset(%s::jsonb) AS s(id uuid, trace_id uuid, parent_id uuid, seq integer, name text,
        kind text, started_at timestamptz, duration_ms double precision, status text, attributes jsonb, error text)
"""  # noqa: S608
# A joined trace (`trace_join`): the row is extended, never replaced, and the spans are numbered on
# after the stored ones, the continuation's root placed under the stored root.
_TRACE_JOIN_SQL = f"""INSERT INTO {TraceRow._meta.db_table} AS t
    (id, tenant_id, owner_id, name, started_at, duration_ms, status, attributes)
    VALUES (%s, %s, %s, %s, %s, %s, %s, %s::jsonb)
    ON CONFLICT (id) DO UPDATE SET
        duration_ms = GREATEST(t.duration_ms,
            EXTRACT(EPOCH FROM (EXCLUDED.started_at - t.started_at)) * 1000 + EXCLUDED.duration_ms),
        status = CASE WHEN EXCLUDED.status = 'error' THEN 'error' ELSE t.status END"""  # noqa: S608
_SPANS_JOIN_SQL = f"""INSERT INTO {SpanRow._meta.db_table}
    (id, trace_id, parent_id, seq, name, kind, started_at, duration_ms, status, attributes, error)
    SELECT s.id, s.trace_id,
        COALESCE(s.parent_id, (SELECT r.id FROM {SpanRow._meta.db_table} r
            WHERE r.trace_id = s.trace_id AND r.parent_id IS NULL ORDER BY r.seq LIMIT 1)),
        s.seq + COALESCE((SELECT MAX(o.seq) + 1 FROM {SpanRow._meta.db_table} o WHERE o.trace_id = s.trace_id), 0),
        s.name, s.kind, s.started_at, s.duration_ms, s.status, s.attributes, s.error
    FROM jsonb_to_recordset(%s::jsonb) AS s(id uuid, trace_id uuid, parent_id uuid, seq integer, name text,
        kind text, started_at timestamptz, duration_ms double precision, status text, attributes jsonb, error text)
"""  # noqa: S608


def _redacted_rows(trace: Trace) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The trace's attributes and its spans as rows, redacted once for storage and export alike."""
    redactor = Redactor()
    spans = [
        {
            "id": span.id,
            "trace_id": trace.id,
            "parent_id": span.parent_id,
            "seq": span.seq,
            "name": span.name,
            "kind": span.kind,
            "started_at": trace.span_started_at(span),
            "duration_ms": span.duration_ms,
            "status": span.status,
            "attributes": redactor(span.attributes),
            "error": redactor.text(span.error),
        }
        for span in trace.spans
    ]
    return redactor(trace.attributes), spans


def trace_statements(
    *, trace: Trace, rows: tuple[dict[str, Any], list[dict[str, Any]]] | None = None
) -> list[Statement]:
    """The SQL that stores a finished trace and its spans, redacted first (for `execute_batch`)."""
    attributes, spans = rows or _redacted_rows(trace)
    trace_values: list[Any] = [
        trace.id,
        trace.tenant_id,
        trace.owner_id,
        trace.name,
        trace.started_at,
        trace.duration_ms,
        trace.status,
        json.dumps(attributes, default=str),
    ]
    joined = trace.joined
    statements: list[Statement] = [(_TRACE_JOIN_SQL if joined else _TRACE_SQL, trace_values)]
    if spans:
        statements.append(
            (_SPANS_JOIN_SQL if joined else _SPANS_SQL, [json.dumps(spans, default=_json_value)])
        )
    return statements


def _json_value(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def trace_persist(*, trace: Trace, extra: list[Statement] | None = None, behind: bool = False) -> None:
    """Write a finished trace and its spans (and `extra` statements) in one transaction and one round trip.

    `behind`: queue them for the process's write-behind thread (`core.writebehind`) instead.
    """
    rows = _redacted_rows(trace)
    statements = [*(extra or []), *trace_statements(trace=trace, rows=rows)]
    if behind:
        writer.submit(statements)
    else:
        execute_batch(statements)
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT:
        trace_row = TraceRow(
            id=trace.id, tenant_id=trace.tenant_id, name=trace.name, started_at=trace.started_at
        )
        export_trace(trace_row=trace_row, span_rows=[SpanRow(**span) for span in rows[1]])
