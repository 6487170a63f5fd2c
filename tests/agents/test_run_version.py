"""A run of a stored agent version: its instructions, model and allowlist, recorded on the run;
today's operator switches still apply; an unknown version is a 404."""

from __future__ import annotations

from typing import Any

import pytest

from agents.instructions import STYLE_DEFAULT, STYLE_OFF
from agents.models import Run
from agents.runtime import RunOptions, agenerate, generate
from agents.services import agent_set_enabled
from core.context import RequestContext
from core.errors import Disabled, NotFound
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


def quote_system(body: dict[str, Any]) -> ChatReply:
    """The first line of the instructions, whether style guardrails follow, and the tools offered."""
    system = body["messages"][0]["content"]
    tools = sorted(t["function"]["name"] for t in body.get("tools") or [])
    styled = "styled" if "Writing style" in system else "plain"
    return ChatReply(text=f"{system.splitlines()[0]} | {styled} | {','.join(tools)}")


@pytest.fixture
def two_versions(make_agent: Any, openai_server: Any) -> Any:
    openai_server.respond_with(quote_system)
    make_agent(instructions="Version one.", style=STYLE_OFF, tools=["test_add"])
    return make_agent(instructions="Version two.", style=STYLE_DEFAULT, tools=["test_add", "test_whoami"])


def test_a_run_of_an_older_version_uses_its_configuration_and_records_it(two_versions, user):
    from core.tenancy import tenant_for_user

    context = RequestContext(tenant_id=tenant_for_user(user).pk, user_id=user.pk)
    old = generate("helper", context=context, prompt="hi", options=RunOptions(agent_version=1))
    current = generate("helper", context=context, prompt="hi")
    assert old.text == "Version one. | plain | render_data,test_add"
    assert current.text == "Version two. | styled | render_data,test_add,test_whoami"
    assert (old.agent_version, current.agent_version) == (1, 2)
    assert Run.objects.get(pk=old.run_id).agent_version == 1


@pytest.mark.django_db(transaction=True)  # the async entry reads on a thread of its own connection
async def test_the_async_entry_runs_the_older_version_too(two_versions, user):
    from asgiref.sync import sync_to_async

    from core.tenancy import tenant_for_user

    tenant = await sync_to_async(tenant_for_user)(user)
    context = RequestContext(tenant_id=tenant.pk, user_id=user.pk)
    result = await agenerate("helper", context=context, prompt="hi", options=RunOptions(agent_version=1))
    assert result.text == "Version one. | plain | render_data,test_add"
    assert result.agent_version == 1


def test_an_unknown_version_is_not_found_and_a_disabled_agent_stays_disabled(two_versions, user):
    from core.tenancy import tenant_for_user

    context = RequestContext(tenant_id=tenant_for_user(user).pk, user_id=user.pk)
    with pytest.raises(NotFound) as caught:
        generate("helper", context=context, prompt="hi", options=RunOptions(agent_version=7))
    assert caught.value.details == {"agent_version": ["7"]}
    agent_set_enabled(agent=two_versions, enabled=False)
    with pytest.raises(Disabled):
        generate("helper", context=context, prompt="hi", options=RunOptions(agent_version=1))
