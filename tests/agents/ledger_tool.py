"""A tool with a side effect the tests can count across processes: each execution appends a line
(its idempotency key) to the file `LEDGER_PATH` names."""

from __future__ import annotations

import os

from pydantic import BaseModel

from agents.tools import ToolContext, tool


class Entry(BaseModel):
    amount: int


class Written(BaseModel):
    amount: int
    key: str


@tool(
    id="ledger_write",
    description="Writes a payment to the ledger",
    side_effect="external",
    needs_approval=True,
)
def ledger_write(ctx: ToolContext, args: Entry) -> Written:
    with open(os.environ["LEDGER_PATH"], "a", encoding="utf-8") as ledger:
        ledger.write(f"{ctx.idempotency_key} {args.amount}\n")
    return Written(amount=args.amount, key=ctx.idempotency_key)
