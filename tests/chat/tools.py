"""Tools the chat tests give their agent; a label is what the UI shows while the tool runs."""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.tools import ToolContext, tool


class MachineIn(BaseModel):
    machine: str


class MachineOut(BaseModel):
    machine: str
    available: bool


@tool(
    id="chat_check_availability",
    description="Whether a machine is free",
    side_effect="read",
    label="Checking machine availability…",
)
def check_availability(ctx: ToolContext, args: MachineIn) -> MachineOut:
    return MachineOut(machine=args.machine, available=True)


class BookingOut(BaseModel):
    machine: str
    booked: bool


@tool(
    id="chat_book_machine",
    description="Book a machine for the user",
    side_effect="write",
    label="Booking the machine…",
    needs_approval=True,
)
def book_machine(ctx: ToolContext, args: MachineIn) -> BookingOut:
    return BookingOut(machine=args.machine, booked=True)


class SlotAsk(BaseModel):
    message: str


class Slot(BaseModel):
    slot: str = Field(pattern=r"^\d{1,2}:\d{2}$", description="A time of day, as 14:00")


class SlotOut(BaseModel):
    machine: str
    slot: str


@tool(
    id="chat_pick_slot",
    description="Reserve a machine at a slot the user picks",
    side_effect="write",
    label="Picking a slot…",
    suspend_schema=SlotAsk,
    resume_schema=Slot,
)
def pick_slot(ctx: ToolContext, args: MachineIn) -> SlotOut:
    if ctx.resume_data is None:
        ctx.suspend(SlotAsk(message=f"Which slot for {args.machine}?"))
    return SlotOut(machine=args.machine, slot=ctx.resume_data.slot)
