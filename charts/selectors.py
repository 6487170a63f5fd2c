"""Reads for inline charts, scoped to the caller: another owner's chart id is "not found"."""

from __future__ import annotations

from charts.schemas import PENDING, ChartEntry
from charts.store import chart_key, entry_read, entry_wait
from core.access import Actor
from core.errors import NotFound


def _key(actor: Actor, chart_id: str) -> str:
    return chart_key(tenant_id=actor.tenant_id, owner_id=actor.user_id, chart_id=chart_id)


def chart_get(*, actor: Actor, chart_id: str) -> ChartEntry:
    entry = entry_read(_key(actor, chart_id))
    if entry is None:
        raise NotFound("Chart not found (it may have expired).")
    return entry


async def chart_await(
    *, actor: Actor, chart_id: str, after: str | None, timeout_s: float
) -> ChartEntry | None:
    """The chart once it is settled (or, with `after`, once its status is no longer `after`),
    or as it is when `timeout_s` passes; None if it expired meanwhile."""

    def done(entry: ChartEntry | None) -> bool:
        return entry is None or entry.status not in PENDING or (after is not None and entry.status != after)

    return await entry_wait(_key(actor, chart_id), done=done, timeout_s=timeout_s)
