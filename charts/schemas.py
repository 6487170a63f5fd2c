"""The shapes of inline charts: the tool's input, the ECharts option a planner must return, the entry."""

from __future__ import annotations

from typing import Any, Literal

from django.conf import settings
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Scalar = str | int | float | bool | None
ChartType = Literal["bar", "line", "pie", "scatter"]
Status = Literal["queued", "rendering", "ready", "failed"]
PENDING: frozenset[str] = frozenset({"queued", "rendering"})


class RenderDataIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="The chart's title")
    description: str | None = Field(
        default=None, max_length=2000, description="What the chart should show (optional)"
    )
    data: list[dict[str, Scalar]] = Field(
        min_length=1,
        description='The rows: objects keyed by column name, e.g. [{"month": "Jan", "revenue": 120}]',
    )

    @field_validator("data")
    @classmethod
    def _rows(cls, rows: list[dict[str, Scalar]]) -> list[dict[str, Scalar]]:
        limit: int = settings.CHART_MAX_ROWS
        if len(rows) > limit:
            raise ValueError(f"at most {limit} rows per chart, got {len(rows)}; aggregate or sample them")
        if any(not row for row in rows):
            raise ValueError("every row needs at least one column")
        return rows


class RenderDataOut(BaseModel):
    chartId: str


class _Open(BaseModel):
    """ECharts takes many more keys than are checked here; the checked ones must be right."""

    model_config = ConfigDict(extra="allow")


class Axis(_Open):
    type: Literal["category", "value", "time", "log"]
    data: list[Scalar] | None = None


class Series(_Open):
    type: ChartType
    name: str | None = None
    data: list[Any] = Field(min_length=1)


class ChartOption(_Open):
    """An ECharts option: at least one series; bar, line and scatter series need both axes."""

    title: dict[str, Any] | None = None
    tooltip: dict[str, Any] | None = None
    legend: dict[str, Any] | None = None
    xAxis: Axis | list[Axis] | None = None
    yAxis: Axis | list[Axis] | None = None
    series: list[Series] = Field(min_length=1)

    @model_validator(mode="after")
    def _axes(self) -> ChartOption:
        cartesian = any(s.type != "pie" for s in self.series)
        if cartesian and (self.xAxis is None or self.yAxis is None):
            raise ValueError("bar, line and scatter series need an xAxis and a yAxis")
        return self


class ChartPlan(BaseModel):
    """What the planner model answers (structured output)."""

    chartType: ChartType
    option: ChartOption


class ChartEntry(BaseModel):
    """A chart as cached: its rows until it is planned, then its option or why it failed."""

    chartId: str
    status: Status
    title: str
    description: str | None = None
    model: str = ""  # the planner model (a name or `tier:<tier>`)
    fallback_model: str = ""  # the calling run's model, tried when the planner model fails
    rows: list[dict[str, Scalar]] | None = None
    chartType: ChartType | None = None
    option: dict[str, Any] | None = None
    error: str | None = None

    @property
    def pending(self) -> bool:
        return self.status in PENDING

    def public(self) -> dict[str, Any]:
        """What the embed route answers (never the rows or the models)."""
        return self.model_dump(
            mode="json", include={"chartId", "status", "title", "chartType", "option", "error"}
        )
