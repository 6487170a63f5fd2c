"""Two harmless tools for the demo agent: the time in a timezone, and unit conversion."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field

from agents.tools import ToolContext, ToolInputError, tool


class TimeIn(BaseModel):
    timezone: str = Field(default="UTC", description="IANA timezone name, for example Europe/Paris")


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
    except (ZoneInfoNotFoundError, ValueError) as error:
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
