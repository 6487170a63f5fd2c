"""The chart planner job."""

from __future__ import annotations

from celery import shared_task

from charts.services import chart_plan_settle


@shared_task(name="charts.plan", acks_late=True, max_retries=0)
def chart_plan(tenant_id: int, owner_id: int | None, chart_id: str) -> str | None:
    """Plan one chart (a failure settles it as failed; nothing is retried)."""
    entry = chart_plan_settle(tenant_id=tenant_id, owner_id=owner_id, chart_id=chart_id)
    return entry.status if entry is not None else None
