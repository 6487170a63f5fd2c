"""The memory tools through the real runtime and the scripted model server."""

from __future__ import annotations

import json

import pytest

from agents.runtime import MemoryOptions, generate
from core.context import RequestContext
from memory.models import WorkingMemory
from memory.services import document_create
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}}}


@pytest.fixture
def ctx(user):
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=f"user-{user.pk}")


def _tool_results(openai_server):
    return [
        json.loads(m["content"])
        for r in openai_server.chat_requests
        for m in r.messages
        if m["role"] == "tool"
    ]


def test_update_working_memory_returns_validation_errors_to_the_model(openai_server, make_agent, ctx):
    make_agent(tools=["update_working_memory"], memory={"working_memory": {"schema": SCHEMA}})
    openai_server.script(
        ChatReply(
            tool_calls=[ToolCall(id="c1", name="update_working_memory", arguments={"content": {"age": "x"}})]
        ),
        ChatReply(
            tool_calls=[
                ToolCall(
                    id="c2", name="update_working_memory", arguments={"content": {"name": "Ada", "age": 36}}
                )
            ]
        ),
        ChatReply(text="Noted."),
    )

    result = generate("helper", context=ctx, prompt="I'm Ada, 36.", memory=MemoryOptions(thread_id="t1"))

    assert result.text == "Noted."
    first, second = _tool_results(openai_server)[-2:]
    assert first["ok"] is False
    assert "age" in first["errors"]
    assert second["ok"] is True
    row = WorkingMemory.objects.get()
    assert (row.key, row.data) == (f"user-{ctx.user_id}", {"name": "Ada", "age": 36})


def test_knowledge_search_tool_stays_in_the_callers_tenant(openai_server, settings, make_agent, ctx):
    from tests.memory.conftest import new_tenant

    settings.EMBEDDER = "scripted/embed-test"
    document_create(tenant_id=ctx.tenant_id, title="Ours", text="Our office opens at nine.")
    document_create(tenant_id=new_tenant().pk, title="Theirs", text="Our office opens at nine.")
    make_agent(tools=["knowledge_search"])
    openai_server.script(
        ChatReply(
            tool_calls=[ToolCall(id="k1", name="knowledge_search", arguments={"query": "office hours"})]
        ),
        ChatReply(text="Nine."),
    )

    generate("helper", context=ctx, prompt="When do you open?")

    [found] = _tool_results(openai_server)
    assert [r["title"] for r in found["results"]] == ["Ours"]
