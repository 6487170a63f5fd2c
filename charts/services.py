"""Writes for inline charts: create one (queued, then planned in the background), plan it."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings

from charts.planner import ChartPlanFailed, chart_plan_run
from charts.schemas import ChartEntry, Scalar
from charts.store import chart_key, entry_read, entry_write
from observability.tracing import trace_start

logger = logging.getLogger(__name__)


def chart_create(
    *,
    tenant_id: int,
    owner_id: int | None,
    title: str,
    description: str | None,
    rows: list[dict[str, Scalar]],
    model: str,
    fallback_model: str = "",
) -> str:
    """Cache a queued chart for this owner and start planning it with `model` (then
    `fallback_model`); return its id at once."""
    from charts.tasks import chart_plan

    chart_id = str(uuid.uuid4())
    key = chart_key(tenant_id=tenant_id, owner_id=owner_id, chart_id=chart_id)
    entry = ChartEntry(
        chartId=chart_id,
        status="queued",
        title=title,
        description=description,
        rows=rows,
        model=model,
        fallback_model=fallback_model,
    )
    entry_write(key, entry, ttl_s=settings.CHART_TTL_S)
    # The entry lives in Redis, written above; no database row waits for a commit.
    chart_plan.delay(tenant_id, owner_id, chart_id)
    return chart_id


def chart_plan_settle(*, tenant_id: int, owner_id: int | None, chart_id: str) -> ChartEntry | None:
    """Plan a queued chart and settle it as ready or failed; None when it is gone (expired)."""
    key = chart_key(tenant_id=tenant_id, owner_id=owner_id, chart_id=chart_id)
    entry = entry_read(key)
    if entry is None or not entry.pending:
        return entry
    entry_write(key, entry.model_copy(update={"status": "rendering"}))
    trace = trace_start(name="charts.plan", tenant_id=tenant_id, owner_id=owner_id)
    update: dict[str, Any] = {"rows": None}
    try:
        with trace.span("charts.plan", kind="task", chart_id=chart_id, model=entry.model):
            plan = chart_plan_run(entry, trace=trace)
        update |= {
            "status": "ready",
            "chartType": plan.chartType,
            "option": plan.option.model_dump(mode="json"),
        }
    except ChartPlanFailed as error:
        logger.warning("chart %s not planned: %s", chart_id, error)
        update |= {"status": "failed", "error": str(error)}
    finally:
        trace.flush()
    settled = entry.model_copy(update=update)
    entry_write(key, settled, ttl_s=settings.CHART_TTL_S)
    return settled
