"""Traces and spans, buffered in memory and written in one batch.

A run opens a trace with `trace_start` (a run continued after a suspension, in any process,
joins its stored trace with `trace_join`); everything inside opens spans with
`trace.span(...)` (a context manager). The current span travels in a context
variable, so nested spans find their parent without it being passed around,
also across `asyncio` tasks started inside the span. `trace.flush()` redacts
and writes the trace and all its spans in one transaction (two queries), and
hands them to the OTLP exporter when one is configured.
"""

from __future__ import annotations

import contextvars
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_current_span: contextvars.ContextVar[Span | None] = contextvars.ContextVar("current_span", default=None)


@dataclass(slots=True)
class Span:
    """One timed operation. Attributes must be JSON-serialisable."""

    trace: Trace
    name: str
    kind: str
    seq: int
    parent_id: uuid.UUID | None
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    start_ns: int = field(default_factory=time.perf_counter_ns)
    end_ns: int | None = None
    status: str = "ok"
    error: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)

    def set(self, **attributes: Any) -> None:
        self.attributes.update(attributes)

    def record_error(self, error: BaseException | str) -> None:
        self.status = "error"
        self.error = error if isinstance(error, str) else f"{type(error).__name__}: {error}"

    def end(self) -> None:
        if self.end_ns is None:
            self.end_ns = time.perf_counter_ns()

    @property
    def duration_ms(self) -> float:
        end = self.end_ns if self.end_ns is not None else time.perf_counter_ns()
        return (end - self.start_ns) / 1e6


@dataclass(slots=True)
class Trace:
    """A tree of spans for one run (or one background operation)."""

    name: str
    tenant_id: int | None
    owner_id: int | None = None  # the user whose request it traces; None for background work
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    attributes: dict[str, Any] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    start_ns: int = field(default_factory=time.perf_counter_ns)
    spans: list[Span] = field(default_factory=list)
    status: str = "ok"
    flushed: bool = False
    # A continuation of a stored trace (`trace_join`): its spans are added after the stored ones,
    # its root span under the stored root, and the stored row's duration and status extended.
    joined: bool = False

    def start_span(
        self, name: str, *, kind: str = "other", parent: Span | None = None, **attributes: Any
    ) -> Span:
        """Open a span without making it current; the caller must `end()` it."""
        if parent is None:
            parent = _current_span.get()
            if parent is not None and parent.trace is not self:
                parent = None
            if parent is None and self.spans:
                parent = self.spans[0]  # the trace's root span
        span = Span(
            trace=self,
            name=name,
            kind=kind,
            seq=len(self.spans),
            parent_id=parent.id if parent is not None else None,
            attributes=attributes,
        )
        self.spans.append(span)
        return span

    @contextmanager
    def span(self, name: str, *, kind: str = "other", **attributes: Any) -> Iterator[Span]:
        """Open a span, make it current, end it on exit; an exception marks it failed."""
        span = self.start_span(name, kind=kind, **attributes)
        token = _current_span.set(span)
        try:
            yield span
        except BaseException as exc:
            span.record_error(exc)
            raise
        finally:
            span.end()
            _current_span.reset(token)

    def flush(self, *, extra: list[tuple[str, list[Any]]] | None = None, behind: bool = False) -> None:
        """Redact and persist the trace and its spans (with `extra` statements, same transaction); idempotent.

        `behind`: hand the write to the process's write-behind thread and return.
        """
        from observability.services import trace_persist

        if self.flushed:
            return
        for span in self.spans:
            span.end()
            if span.status == "error":
                self.status = "error"
        trace_persist(trace=self, extra=extra, behind=behind)
        self.flushed = True

    async def aflush(self) -> None:
        from asgiref.sync import sync_to_async

        await sync_to_async(self.flush, thread_sensitive=True)()

    def span_started_at(self, span: Span) -> datetime:
        return self.started_at + timedelta(microseconds=(span.start_ns - self.start_ns) / 1000)

    @property
    def duration_ms(self) -> float:
        ends = [s.end_ns for s in self.spans if s.end_ns is not None]
        end = max(ends) if ends else time.perf_counter_ns()
        return (end - self.start_ns) / 1e6


def trace_start(*, name: str, tenant_id: int | None, owner_id: int | None = None, **attributes: Any) -> Trace:
    """A new trace of `tenant_id`, owned by the user `owner_id` (None: background work,
    readable by the tenant's admins only; see docs/security.md)."""
    return Trace(name=name, tenant_id=tenant_id, owner_id=owner_id, attributes=attributes)


def trace_join(
    *, trace_id: uuid.UUID | str, name: str, tenant_id: int | None, owner_id: int | None = None
) -> Trace:
    """More spans for the stored trace `trace_id` (a run continued after an approval, a resume,
    an auto-resume), so one run is one trace however many processes it went through.

    Flushing it adds its spans after the stored ones (its root span becomes a child of the
    stored root) and extends the stored trace's duration and status; its own name and
    attributes are not stored (the trace keeps the first's). No read is needed to join: the
    stored positions are found by the insert itself. Exported to OTLP, the continuation's
    root span has no parent (the exporter sees only this flush's spans), under the same trace id.
    """
    return Trace(name=name, tenant_id=tenant_id, owner_id=owner_id, id=uuid.UUID(str(trace_id)), joined=True)


def current_span() -> Span | None:
    return _current_span.get()


@contextmanager
def traced_operation(name: str, *, kind: str, tenant_id: int | None, **attributes: Any) -> Iterator[Span]:
    """A span of its own trace, persisted on exit: for work outside a run (a sweep, a storage call).

    Inside a run (a current span exists), the span joins the run's trace instead.
    """
    parent = _current_span.get()
    if parent is not None:
        with parent.trace.span(name, kind=kind, **attributes) as span:
            yield span
        return
    trace = trace_start(name=name, tenant_id=tenant_id)
    try:
        with trace.span(name, kind=kind, **attributes) as span:
            yield span
    finally:
        trace.flush()
