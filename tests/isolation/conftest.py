"""The owner's world for the isolation tests (tests/isolation/world.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.agents.conftest import make_agent  # noqa: F401  (fixture)
from tests.factories import TenantFactory, UserFactory
from tests.fakes.openai_server import ChatReply, ToolCall
from tests.isolation.entries import SECRET, TENANT_MARK
from tests.isolation.world import (
    World,
    chart_object,
    client_for,
    eval_objects,
    storage_objects,
    workflow_objects,
)
from tests.storage_kit.conftest import moto_server, s3_settings  # noqa: F401  (fixtures)


@pytest.fixture
def world(openai_server: Any, settings: Any, s3_settings: Any, make_agent: Any) -> World:  # noqa: F811
    """The owner's objects, each holding SECRET where a reader would see it; the thread id and
    the workspace name are ids a caller sends, so they hold none (an echo of one's own input is
    no leak)."""
    settings.EMBEDDER = "scripted/embed-test"
    tenant = TenantFactory()
    world = World(
        owner=UserFactory(tenant=tenant),
        colleague=UserFactory(tenant=tenant),
        stranger=UserFactory(tenant=TenantFactory()),
    )
    make_agent(memory={"last_messages": 10})  # "helper": every tenant may use it
    make_agent(
        slug="tenant-a-agent",
        tenant=tenant,
        description=TENANT_MARK,
        model=f"scripted/{TENANT_MARK}",
    )
    owner = client_for(world.owner)
    openai_server.script(ChatReply(text=f"the answer is {SECRET}"))
    run = owner.post(
        "/api/agents/helper/generate",
        {
            "prompt": f"remember {SECRET}",
            "idempotencyKey": "key-owned",
            "memory": {"thread": "t-owned", "resource": str(world.owner.pk)},
        },
        format="json",
    )
    assert run.status_code == 200, run.json()
    thread = "t-owned"
    assert owner.patch(f"/api/memory/threads/{thread}", {"title": SECRET}, format="json").status_code == 200
    wm = owner.post(f"/api/memory/threads/{thread}/working-memory", {"workingMemory": SECRET}, format="json")
    assert wm.status_code == 200
    document = owner.post(
        "/api/memory/knowledge/documents",
        {"title": TENANT_MARK, "text": f"{TENANT_MARK} opening hours"},
        format="json",
    )
    assert document.status_code == 201
    # A run of the owner's waiting for approval of a tool call (its prompt holds the secret).
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="call-owned", name="test_add", arguments={"a": 1, "b": 2})])
    )
    waiting = owner.post(
        "/api/agents/helper/generate",
        {
            "prompt": f"add for {SECRET}",
            "requireToolApproval": True,
            "memory": {"thread": "t-waiting", "resource": str(world.owner.pk)},
        },
        format="json",
    )
    assert waiting.json()["status"] == "suspended", waiting.json()
    world.ids.update(
        waiting_run=waiting.json()["runId"],
        waiting_call="call-owned",
        run=run.json()["runId"],
        trace=run.json()["traceId"],
        key="key-owned",
        thread=thread,
        owner=world.owner.pk,
        document=document.json()["id"],
        tenant_agent="tenant-a-agent",
    )
    storage_objects(world, tenant)
    eval_objects(world, tenant)
    workflow_objects(world)
    world.ids["chart"] = chart_object(world, openai_server)
    openai_server.always(ChatReply(text="an answer of its own"))
    return world
