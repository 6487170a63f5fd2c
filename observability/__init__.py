"""Tracing: traces of spans stored in PostgreSQL, redacted, optionally exported over OTLP.

Public API: `observability.tracing` (trace_start, current_span, Span, Trace),
`observability.redaction` (redact, register_secret) and `observability.selectors`.
"""
