"""`render_data`: the ambient tool that turns rows into an inline chart in the answer."""

from __future__ import annotations

from django.conf import settings

from agents.tools import ToolContext, tool
from charts.schemas import RenderDataIn, RenderDataOut
from charts.services import chart_create


@tool(
    id="render_data",
    description=(
        "Show rows of data as a chart inside your answer. Send {title, description?, data: [rows]} "
        "where each row is an object keyed by column name. It returns {chartId} at once: put "
        "[chart:<chartId>] on its own line in your answer where the chart belongs."
    ),
    side_effect="none",
    label="Preparing a chart…",
    ambient=True,
)
def render_data(ctx: ToolContext, args: RenderDataIn) -> RenderDataOut:
    chart_id = chart_create(
        tenant_id=ctx.tenant_id,
        owner_id=ctx.request_context.user_id,
        title=args.title,
        description=args.description,
        rows=args.data,
        model=str(settings.CHART_MODEL),  # the fast tier by default
        fallback_model=ctx.model or str(settings.DEFAULT_MODEL),
    )
    return RenderDataOut(chartId=chart_id)
