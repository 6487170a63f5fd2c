"""Agents made through the services (so versions are written), and tools that record their calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, Field

from agents.services import agent_save, tools_sync
from agents.tools import ToolContext, tool

CALLS: dict[str, list[Any]] = {"add": [], "forbidden": [], "whoami": [], "probe": []}


class AddIn(BaseModel):
    a: int = Field(description="first number")
    b: int


class AddOut(BaseModel):
    sum: int


@tool(id="test_add", description="Add two integers", side_effect="none", label="Adding…")
def add(ctx: ToolContext, args: AddIn) -> AddOut:
    CALLS["add"].append((args.a, args.b))
    return AddOut(sum=args.a + args.b)


class Empty(BaseModel):
    pass


class Note(BaseModel):
    text: str


@tool(id="test_forbidden", description="Never allowlisted", side_effect="write")
def forbidden(ctx: ToolContext, args: Empty) -> Note:
    CALLS["forbidden"].append(True)
    return Note(text="ran")


@tool(id="test_slow", description="Sleeps past its timeout", timeout_s=0.2)
def slow(ctx: ToolContext, args: Empty) -> Note:
    time.sleep(1.0)
    return Note(text="late")


@tool(id="test_explode", description="Always fails")
def explode(ctx: ToolContext, args: Empty) -> Note:
    raise RuntimeError("kaboom")


@tool(id="test_bad_output", description="Returns output its schema refuses")
def bad_output(ctx: ToolContext, args: Empty) -> Note:
    return {"text": ["secret-ish"]}  # type: ignore[return-value]  # what the test is about


class WhoOut(BaseModel):
    tenant_id: int
    user_id: int | None
    plan: str | None
    run_id: str | None


@tool(id="test_whoami", description="Reports the request context it received")
async def whoami(ctx: ToolContext, args: Empty) -> WhoOut:
    CALLS["whoami"].append(ctx)
    return WhoOut(
        tenant_id=ctx.request_context.tenant_id,
        user_id=ctx.request_context.user_id,
        plan=ctx.request_context.get("plan"),
        run_id=ctx.run_id,
    )


class Probed(BaseModel):
    status: str | None
    step: int | None
    tool_messages: int


@tool(id="test_run_probe", description="Reads its own run's stored row from another connection")
def run_probe(ctx: ToolContext, args: Empty) -> Probed:
    from core.db import connect

    with connect(autocommit=True) as other:
        row = other.execute("SELECT status, state FROM agents_run WHERE id = %s", [ctx.run_id]).fetchone()
    if row is None:
        probed = Probed(status=None, step=None, tool_messages=0)
    else:
        state = row[1] or {}
        tools = [m for m in state.get("messages", []) if m.get("role") == "tool"]
        probed = Probed(status=row[0], step=state.get("step"), tool_messages=len(tools))
    CALLS["probe"].append(probed)
    return probed


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    for calls in CALLS.values():
        calls.clear()


@pytest.fixture
def make_agent(db: None) -> Callable[..., Any]:
    tools_sync()

    def make(slug: str = "helper", **fields: Any) -> Any:
        defaults: dict[str, Any] = {
            "name": slug.title(),
            "instructions": "You are a careful assistant.",
            "model": "scripted/gpt-test",
            "max_steps": 5,
        }
        tools = fields.pop("tools", ["test_add", "test_slow", "test_explode", "test_whoami"])
        return agent_save(slug=slug, tools=tools, **{**defaults, **fields})

    return make


@pytest.fixture
def synced(openai_server: Any) -> list[str]:
    """Tools synced from code; the scripted server registers the `scripted` and `backup` providers."""
    return tools_sync()
