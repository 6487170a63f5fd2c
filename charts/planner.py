"""The chart planner: one structured-output model call that turns rows into an ECharts option."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError

from agents.providers.calls import call_sync
from agents.providers.resolution import chain_resolve
from charts.schemas import ChartEntry, ChartPlan
from core.errors import PlatformError
from observability.tracing import Trace

PLANNER_NAME = "echarts_option"
PLANNER_PROMPT = (
    "You design one ECharts chart for a dataset. Pick the chart type that fits the rows "
    "(bar for categories, line for a trend over time, pie for shares of a whole, scatter for two "
    'measures) and answer with JSON only: {"chartType": ..., "option": <an ECharts option>}. '
    "The option needs a series list with the data inlined; bar, line and scatter charts need "
    "xAxis and yAxis. Use the column names as axis and series names."
)
_SAMPLE_ROWS = 200  # rows beyond this are not shown to the planner (the schema is what it needs)


class ChartPlanFailed(Exception):
    """The planner model failed, or answered something that is not a valid chart."""


def planner_request(entry: ChartEntry) -> dict[str, Any]:
    rows = entry.rows or []
    dataset = {
        "title": entry.title,
        "description": entry.description or "",
        "columns": list(dict.fromkeys(key for row in rows for key in row)),
        "rowCount": len(rows),
        "rows": rows[:_SAMPLE_ROWS],
    }
    return {
        "messages": [
            {"role": "system", "content": PLANNER_PROMPT},
            {"role": "user", "content": json.dumps(dataset, default=str)},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": PLANNER_NAME, "schema": ChartPlan.model_json_schema(), "strict": False},
        },
    }


def chart_plan_run(entry: ChartEntry, *, trace: Trace) -> ChartPlan:
    """Ask the entry's planner model (then the run's) for a chart; raise ChartPlanFailed with a short reason."""
    try:
        fallbacks = (
            [entry.fallback_model] if entry.fallback_model and entry.fallback_model != entry.model else []
        )
        chain = chain_resolve(entry.model or entry.fallback_model, fallbacks)
        _, response = call_sync(chain=chain, request=planner_request(entry), trace=trace)
    except PlatformError as error:
        raise ChartPlanFailed(f"The chart model failed: {error.message}") from error
    try:
        return ChartPlan.model_validate_json(response.text)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        raise ChartPlanFailed(
            f"The chart model's answer is not a valid chart ({where}: {first['msg']})."
        ) from error
