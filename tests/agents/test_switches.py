"""Operator switches that hold: approval (the run stops before the call), rollback, built-in tools."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from agents.models import Agent, Run, Tool, ToolCallGate
from agents.runtime import MemoryOptions, generate
from agents.services import agent_rollback, agent_set_enabled, tool_set_enabled
from agents.tools import ToolContext, tool
from core.context import RequestContext
from core.errors import Disabled
from tests.agents.conftest import CALLS
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db

APPROVED_CALLS: list[str] = []


class Transfer(BaseModel):
    amount: int


class Done(BaseModel):
    ok: bool


@tool(id="test_transfer", description="Moves money; needs a human's approval", needs_approval=True)
def transfer(ctx: ToolContext, args: Transfer) -> Done:
    APPROVED_CALLS.append("ran")
    return Done(ok=True)


@pytest.fixture
def ctx(user: Any) -> RequestContext:
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))


def test_an_agent_that_requires_approval_stops_before_every_tool(openai_server, make_agent, ctx):
    make_agent(require_approval=True)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="c1", name="test_add", arguments={"a": 1, "b": 2})]),
    )

    result = generate("helper", context=ctx, prompt="Add 1 and 2")

    assert CALLS["add"] == []  # the tool did not run: the run waits for a decision
    assert (result.status, result.finish_reason) == ("suspended", "suspended")
    assert [(p["toolCallId"], p["kind"]) for p in result.pending_tool_calls] == [("c1", "approval")]
    gate = ToolCallGate.objects.get(run_id=result.run_id)
    assert (gate.tool_name, gate.status, gate.input) == ("test_add", "pending", {"a": 1, "b": 2})
    assert Run.objects.get(id=result.run_id).status == "suspended"
    assert len(openai_server.chat_requests) == 1


def test_a_tool_that_needs_approval_waits_while_the_others_run(openai_server, make_agent, ctx):
    APPROVED_CALLS.clear()
    make_agent(tools=["test_transfer", "test_add"])
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(id="c1", name="test_transfer", arguments={"amount": 5}),
                ToolCall(id="c2", name="test_add", arguments={"a": 2, "b": 2}),
            ]
        ),
    )

    result = generate("helper", context=ctx, prompt="Transfer 5 and add 2 and 2")

    assert APPROVED_CALLS == []
    assert CALLS["add"] == [(2, 2)]  # a tool without the flag runs at once
    assert result.status == "suspended"
    assert [p["toolCallId"] for p in result.pending_tool_calls] == ["c1"]
    state = Run.objects.get(id=result.run_id).state
    recorded = {c["id"]: c for c in state["step_calls"]}
    assert (recorded["c2"]["done"], recorded["c2"]["output"]) == (True, {"sum": 4})
    assert (recorded["c1"]["done"], recorded["c1"]["gate"]) == (False, "approval")


def test_rolling_back_never_flips_the_enabled_switch(make_agent, ctx):
    agent = make_agent(instructions="First.")  # version 1, enabled
    agent_set_enabled(agent=agent, enabled=False)  # version 2

    agent_rollback(agent=agent, number=1)

    agent.refresh_from_db()
    assert agent.instructions == "First."
    assert agent.enabled is False
    with pytest.raises(Disabled):
        generate("helper", context=ctx, prompt="Hi")

    agent_set_enabled(agent=agent, enabled=True)
    agent_rollback(agent=agent, number=2)  # a version recorded while disabled
    assert Agent.objects.get(pk=agent.pk).enabled is True


WORKING_MEMORY = {"working_memory": {"template": "# User\n- Name:\n"}}


def _offered(openai_server: Any) -> set[str]:
    body = openai_server.chat_requests[-1].body
    return {t["function"]["name"] for t in body.get("tools", [])}


def test_a_disabled_built_in_tool_is_not_offered(openai_server, make_agent, ctx):
    make_agent(tools=["update_working_memory", "knowledge_search", "test_add"], memory=WORKING_MEMORY)
    tool_set_enabled(tool_id="update_working_memory", enabled=False)
    tool_set_enabled(tool_id="knowledge_search", enabled=False)
    openai_server.script(ChatReply(text="Hello."))

    generate("helper", context=ctx, prompt="Hi", memory=MemoryOptions(thread_id="t-switch"))

    assert _offered(openai_server) == {"test_add", "render_data"}  # render_data is ambient
    assert Tool.objects.get(id="update_working_memory").enabled is False


def test_a_built_in_tool_is_offered_only_when_allowlisted(openai_server, make_agent, ctx):
    make_agent(tools=["test_add"], memory=WORKING_MEMORY)
    openai_server.script(ChatReply(text="Hello."))

    generate("helper", context=ctx, prompt="Hi", memory=MemoryOptions(thread_id="t-allow"))

    assert _offered(openai_server) == {"test_add", "render_data"}  # render_data is ambient
