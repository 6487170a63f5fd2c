"""A tool with an external side effect, for the "did not execute a side effect" cases."""

from __future__ import annotations

from pydantic import BaseModel

from agents.tools import ToolContext, tool

SENT: list[str] = []


class EmailIn(BaseModel):
    to: str
    body: str = ""


class EmailOut(BaseModel):
    sent: bool


@tool(id="eval_send_email", description="Send an email", side_effect="external")
def send_email(ctx: ToolContext, args: EmailIn) -> EmailOut:
    SENT.append(args.to)
    return EmailOut(sent=True)
