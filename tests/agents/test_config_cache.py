"""The per-process agent configuration cache: served without a query, dropped on every change.

These tests commit (transaction=True): the cache learns of changes from PostgreSQL
notifications, which are only sent when a transaction commits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from agents.models import Agent, Tool
from agents.runtime import agenerate, generate
from agents.runtime.spec import agent_spec_cached, agent_spec_load, specs
from agents.services import agent_save, agent_set_enabled, tool_set_enabled
from core.context import RequestContext
from core.db import connect
from core.errors import Disabled
from core.pgnotify import wait_listening
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cache_on(settings: Any) -> Iterator[None]:
    settings.AGENT_CONFIG_CACHE = True
    specs.stop()
    assert wait_listening(specs)
    yield
    specs.stop()  # closes the listening connection before the test database is dropped


@pytest.fixture
def other_connection() -> Iterator[psycopg.Connection[Any]]:
    """A connection of its own, as another process of the product would have."""
    with connect(autocommit=True) as conn:
        yield conn


def _eventually(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.01)
    return check()


def _cached_now(slug: str, ctx: RequestContext) -> bool:
    """Load once every change committed so far has been heard, so that no notification
    still on its way (the agent's own creation) empties the cache later in the test."""
    assert specs.sync()
    agent_spec_load(slug=slug, tenant_id=ctx.tenant_id)
    return agent_spec_cached(slug=slug, tenant_id=ctx.tenant_id) is not None


@pytest.fixture
def ctx(user: Any) -> RequestContext:
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def test_the_spec_is_served_from_the_cache_until_a_change_is_announced(
    cache_on: None, make_agent: Any, ctx: RequestContext, other_connection: psycopg.Connection[Any]
) -> None:
    make_agent(instructions="Version one.")
    assert _cached_now("helper", ctx)

    # A change that announces nothing (its trigger switched off) is not seen: the cache serves.
    other_connection.execute("ALTER TABLE agents_agent DISABLE TRIGGER agents_agent_config_notify")
    try:
        other_connection.execute(
            "UPDATE agents_agent SET instructions = 'Version two.' WHERE slug = 'helper'"
        )
    finally:
        other_connection.execute("ALTER TABLE agents_agent ENABLE TRIGGER agents_agent_config_notify")
    assert agent_spec_load(slug="helper", tenant_id=ctx.tenant_id).instructions.startswith("Version one.")

    # Another process's change, announced by the trigger, reaches this process's cache.
    other_connection.execute("UPDATE agents_agent SET instructions = 'Version three.' WHERE slug = 'helper'")
    assert specs.sync()
    assert agent_spec_load(slug="helper", tenant_id=ctx.tenant_id).instructions.startswith("Version three.")


def test_switches_made_in_this_process_apply_to_the_very_next_run(
    cache_on: None, make_agent: Any, ctx: RequestContext, openai_server: Any
) -> None:
    agent = make_agent()
    openai_server.script(ChatReply(text="one"), ChatReply(text="two"))
    assert generate("helper", context=ctx, prompt="Hi").text == "one"
    assert _cached_now("helper", ctx)

    tool_set_enabled(tool_id="test_add", enabled=False)  # a QuerySet.update: no model signal
    assert generate("helper", context=ctx, prompt="Hi").text == "two"
    offered = {t["function"]["name"] for t in openai_server.chat_requests[-1].body["tools"]}
    assert "test_add" not in offered

    agent_set_enabled(agent=agent, enabled=False)
    with pytest.raises(Disabled):
        generate("helper", context=ctx, prompt="Hi")

    # The cached disabled agent is refused on the event loop too.
    assert specs.sync()
    with pytest.raises(Disabled):
        agent_spec_load(slug="helper", tenant_id=ctx.tenant_id)
    with pytest.raises(Disabled):
        agent_spec_cached(slug="helper", tenant_id=ctx.tenant_id)


def test_an_admin_style_save_and_an_allowlist_change_drop_the_cache(
    cache_on: None, make_agent: Any, ctx: RequestContext
) -> None:
    make_agent()
    agent_spec_load(slug="helper", tenant_id=ctx.tenant_id)
    agent = Agent.objects.get(slug="helper")
    agent.instructions = "Edited in the admin."
    agent.save()
    assert agent_spec_load(slug="helper", tenant_id=ctx.tenant_id).instructions.startswith(
        "Edited in the admin."
    )

    agent.tools.remove(Tool.objects.get(id="test_slow"))
    assert "test_slow" not in agent_spec_load(slug="helper", tenant_id=ctx.tenant_id).tool_ids


def test_a_spec_read_before_a_change_is_not_cached_after_it(
    cache_on: None, make_agent: Any, ctx: RequestContext
) -> None:
    make_agent(instructions="Old.")
    generation = specs.generation()
    stale = agent_spec_load(slug="helper", tenant_id=ctx.tenant_id)
    specs.clear()  # ...the database's notification of a change arrives
    specs.put(("helper", ctx.tenant_id), (stale, True), generation)
    assert agent_spec_cached(slug="helper", tenant_id=ctx.tenant_id) is None


def test_a_lost_listening_connection_empties_the_cache_until_it_listens_again(
    cache_on: None, make_agent: Any, ctx: RequestContext, other_connection: psycopg.Connection[Any]
) -> None:
    make_agent()
    assert _cached_now("helper", ctx)

    other_connection.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE datname = current_database() AND query LIKE 'LISTEN%%agent_config%%'"
    )
    # While it is down nothing is served from memory (a notification could be missed)...
    assert _eventually(lambda: not specs.listening)
    assert agent_spec_cached(slug="helper", tenant_id=ctx.tenant_id) is None
    # ...and once it listens again, caching resumes.
    assert _eventually(lambda: specs.listening, timeout=5.0)
    assert _cached_now("helper", ctx)


async def test_a_cached_agent_runs_without_leaving_the_event_loop(
    cache_on: None, make_agent: Any, ctx: RequestContext, openai_server: Any
) -> None:
    from asgiref.sync import sync_to_async

    await sync_to_async(make_agent)()
    openai_server.script(ChatReply(text="first"), ChatReply(text="second"))
    assert (await agenerate("helper", context=ctx, prompt="Hi")).text == "first"
    assert await sync_to_async(_cached_now)("helper", ctx)
    # Django refuses database access on the event loop; the cached run needs none before the model.
    assert (await agenerate("helper", context=ctx, prompt="Hi")).text == "second"


def test_agent_save_of_a_new_agent_is_visible_at_once(
    cache_on: None, make_agent: Any, ctx: RequestContext
) -> None:
    make_agent()
    agent_spec_load(slug="helper", tenant_id=ctx.tenant_id)
    agent_save(slug="helper", instructions="Saved again.")
    assert agent_spec_load(slug="helper", tenant_id=ctx.tenant_id).instructions.startswith("Saved again.")
