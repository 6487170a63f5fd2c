"""A tool the chat tests give their agent; its label is what the UI shows while it runs."""

from __future__ import annotations

from pydantic import BaseModel

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
