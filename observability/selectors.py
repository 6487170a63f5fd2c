"""Reads for traces, always scoped to a tenant."""

from __future__ import annotations

import uuid

from core.access import Actor, owned
from core.errors import NotFound
from core.writebehind import first_written
from observability.models import Trace


def trace_get(*, trace_id: uuid.UUID | str, actor: Actor) -> Trace:
    """A trace the actor may read, with its spans in order: its own, or any of its tenant's for a
    tenant admin (traces without an owner, of background work, only for a tenant admin). Any other
    trace is "not found"."""
    trace = first_written(owned(Trace.objects.filter(id=trace_id), actor).prefetch_related("spans"))
    if trace is None:
        raise NotFound("Trace not found.")
    return trace
