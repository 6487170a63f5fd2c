"""The agents app's own tools: the time in a timezone, unit conversion, and demo sales data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from agents.tools import ToolContext, ToolInputError, tool, toolkit_register


class TimeIn(BaseModel):
    # The longest IANA names are about 30 characters; a longer one is refused by the schema.
    timezone: str = Field(
        default="UTC", max_length=64, description="IANA timezone name, for example Europe/Paris"
    )


class TimeOut(BaseModel):
    timezone: str
    iso: str
    weekday: str


@tool(
    id="current_time",
    description="The current date and time in a timezone.",
    side_effect="none",
    label="Checking the time…",
)
def current_time(ctx: ToolContext, args: TimeIn) -> TimeOut:
    try:
        zone = ZoneInfo(args.timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # OSError: a directory such as "America"
        raise ToolInputError(
            f"Unknown timezone {args.timezone!r}; use an IANA name such as Europe/Paris.", field="timezone"
        ) from error
    now = datetime.now(UTC).astimezone(zone)
    return TimeOut(timezone=args.timezone, iso=now.isoformat(timespec="seconds"), weekday=now.strftime("%A"))


Unit = Literal["km", "mi", "kg", "lb", "c", "f"]
_LINEAR = {("km", "mi"): 0.621371, ("mi", "km"): 1.609344, ("kg", "lb"): 2.204623, ("lb", "kg"): 0.453592}


class ConvertIn(BaseModel):
    value: float
    from_unit: Unit
    to_unit: Unit


class ConvertOut(BaseModel):
    value: float
    unit: Unit


@tool(
    id="convert_units",
    description="Convert a value between km and mi, kg and lb, or Celsius (c) and Fahrenheit (f).",
    side_effect="none",
    label="Converting units…",
)
def convert_units(ctx: ToolContext, args: ConvertIn) -> ConvertOut:
    pair = (args.from_unit, args.to_unit)
    if args.from_unit == args.to_unit:
        return ConvertOut(value=args.value, unit=args.to_unit)
    if pair == ("c", "f"):
        return ConvertOut(value=round(args.value * 9 / 5 + 32, 4), unit="f")
    if pair == ("f", "c"):
        return ConvertOut(value=round((args.value - 32) * 5 / 9, 4), unit="c")
    if pair not in _LINEAR:
        raise ToolInputError(f"Cannot convert {args.from_unit} to {args.to_unit}.", field="to_unit")
    return ConvertOut(value=round(args.value * _LINEAR[pair], 4), unit=args.to_unit)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class SalesIn(BaseModel):
    year: int = Field(default=2025, ge=2000, le=2100, description="The year, for example 2025")


class SalesRow(BaseModel):
    month: str
    revenue: float
    orders: int


class SalesOut(BaseModel):
    year: int
    rows: list[SalesRow]


@tool(
    id="demo_sales",
    description="Monthly revenue (EUR) and orders of the demo shop for one year. Made-up data, for trying charts.",
    side_effect="none",
    label="Fetching the demo sales…",
)
def demo_sales(ctx: ToolContext, args: SalesIn) -> SalesOut:
    # Made-up but stable figures: a seasonal curve that grows a little each year.
    growth = 1 + (args.year - 2020) * 0.04
    rows = []
    for index, month in enumerate(_MONTHS):
        seasonal = (9, 8, 10, 11, 12, 12, 13, 12, 14, 15, 18, 21)[index]
        orders = round(seasonal * 31 * growth)
        rows.append(SalesRow(month=month, revenue=round(orders * 42.5, 2), orders=orders))
    return SalesOut(year=args.year, rows=rows)


toolkit_register(
    name="agents",
    tools=[current_time, convert_units, demo_sales],
    description="The agents app's own tools: time, unit conversion and demo data.",
)
