"""Style guardrails: appended to every agent's instructions, replaced per agent, or off."""

from __future__ import annotations

import pytest

from agents.instructions import DEFAULT_STYLE_INSTRUCTIONS
from agents.runtime import generate
from core.context import RequestContext
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(user):
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def _system_sent(openai_server) -> str:
    [request] = openai_server.chat_requests
    assert request.messages[0]["role"] == "system"
    return str(request.messages[0]["content"])


def test_the_default_guardrails_follow_the_instructions(openai_server, make_agent, ctx):
    make_agent()
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi")
    system = _system_sent(openai_server)
    assert system == f"You are a careful assistant.\n\n{DEFAULT_STYLE_INSTRUCTIONS}"
    assert "em dash" in system
    assert "emoji" in system


def test_an_agents_own_text_replaces_the_default(openai_server, make_agent, ctx):
    make_agent(style="custom", style_instructions="Answer in haiku.")
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi")
    assert _system_sent(openai_server) == "You are a careful assistant.\n\nAnswer in haiku."


def test_off_sends_the_instructions_alone(openai_server, make_agent, ctx):
    make_agent(style="off", style_instructions="never sent")
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi")
    assert _system_sent(openai_server) == "You are a careful assistant."


def test_with_memory_the_guardrails_come_before_the_memory_sections(openai_server, make_agent, ctx):
    from agents.runtime import MemoryOptions

    make_agent(
        memory={"last_messages": 5, "working_memory": {"template": "# Notes"}},
        tools=["update_working_memory"],
    )
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi", memory=MemoryOptions(thread_id="t1", resource_id="u1"))
    system = _system_sent(openai_server)
    assert system.startswith(f"You are a careful assistant.\n\n{DEFAULT_STYLE_INSTRUCTIONS}\n\n")
    assert "Working memory" in system.split(DEFAULT_STYLE_INSTRUCTIONS)[1]


def test_the_api_shows_the_agents_style(make_agent, api_client):
    make_agent(style="custom", style_instructions="Short sentences.")
    body = api_client.get("/api/agents/helper").json()
    assert body["style"] == "custom"
    assert body["styleInstructions"] == "Short sentences."
