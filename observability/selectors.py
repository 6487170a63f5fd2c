"""Reads for traces, always scoped to a tenant."""

from __future__ import annotations

import uuid

from core.errors import NotFound
from core.writebehind import first_written
from observability.models import Trace


def trace_get(*, trace_id: uuid.UUID | str, tenant_id: int) -> Trace:
    """A trace of this tenant with its spans in order; another tenant's trace is not found."""
    trace = first_written(Trace.objects.filter(id=trace_id, tenant_id=tenant_id).prefetch_related("spans"))
    if trace is None:
        raise NotFound("Trace not found.")
    return trace
