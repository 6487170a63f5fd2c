"""Toolkits and ambient tools: composition with only/except/prefix/rename, shadowing and
excluding ambient tools, the switches on effective names, and the admin's inline and panel."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from agents.models import Agent
from agents.runtime import generate
from agents.runtime.spec import agent_spec_load, agent_spec_version
from agents.services import agent_rollback, agent_save, tool_set_enabled, tools_sync
from agents.tools import ToolkitUse, toolkit_register
from agents.tools.toolkits import tools_compose
from core.context import RequestContext
from core.errors import ValidationFailed
from tests.agents.admin_forms import form_data
from tests.agents.conftest import CALLS
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db

toolkit_register(name="testkit", tools=["test_add", "test_whoami", "test_explode"], description="For tests")


@pytest.fixture
def ctx(user: Any) -> RequestContext:
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def _offered(openai_server: Any) -> dict[str, str]:
    body = openai_server.chat_requests[0].body
    return {t["function"]["name"]: t["function"]["description"] for t in body.get("tools", [])}


def _names(composition: Any) -> list[tuple[str, str, str]]:
    return [(t.name, t.tool_id, t.source) for t in composition.tools]


def test_only_except_prefix_and_rename_compose_in_order() -> None:
    composition = tools_compose(
        explicit=["convert_units"],
        uses=[
            ToolkitUse(toolkit="testkit", only=("test_add", "test_whoami"), rename={"test_add": "plus"}),
            ToolkitUse(toolkit="testkit", exclude=("test_add", "test_whoami"), prefix="kit_"),
        ],
        ambient_exclude=(),
    )
    assert _names(composition) == [
        ("convert_units", "convert_units", "explicit"),
        ("plus", "test_add", "toolkit"),
        ("test_whoami", "test_whoami", "toolkit"),
        ("kit_test_explode", "test_explode", "toolkit"),
        ("render_data", "render_data", "ambient"),
    ]
    assert composition.tools[1].renamed_from == "test_add"
    assert composition.tools[2].renamed_from == ""


def test_an_agents_own_tool_of_the_same_name_shadows_the_ambient_one_and_exclude_drops_it() -> None:
    shadowing = tools_compose(
        explicit=[],
        uses=[ToolkitUse(toolkit="testkit", only=("test_add",), rename={"test_add": "render_data"})],
        ambient_exclude=(),
    )
    assert _names(shadowing) == [("render_data", "test_add", "toolkit")]
    assert shadowing.shadowed == ("render_data",)

    excluded = tools_compose(explicit=["test_add"], uses=[], ambient_exclude={"render_data"})
    assert _names(excluded) == [("test_add", "test_add", "explicit")]
    assert excluded.excluded == ("render_data",)


def test_a_name_offered_twice_keeps_the_first() -> None:
    composition = tools_compose(
        explicit=["test_add"],
        uses=[ToolkitUse(toolkit="testkit", only=("test_whoami",), rename={"test_whoami": "test_add"})],
        ambient_exclude={"render_data"},
    )
    assert _names(composition) == [("test_add", "test_add", "explicit")]
    assert composition.clashes == ("test_add",)


def test_a_run_offers_the_effective_names_and_runs_the_renamed_tool(make_agent, ctx, openai_server):
    make_agent(
        tools=[],
        toolkits=[
            ToolkitUse(toolkit="testkit", only=("test_add",), rename={"test_add": "plus"}),
            ToolkitUse(toolkit="agents", only=("current_time",), prefix="clock_"),
        ],
    )
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(name="plus", arguments={"a": 2, "b": 3}, id="c1"),
                ToolCall(name="test_add", arguments={"a": 1, "b": 1}, id="c2"),
            ]
        ),
        ChatReply(text="5"),
    )

    result = generate("helper", context=ctx, prompt="add")

    offered = _offered(openai_server)
    assert set(offered) == {"plus", "clock_current_time", "render_data"}
    assert offered["plus"] == "Add two integers"
    assert CALLS["add"] == [(2, 3)]  # only under its offered name
    results = {r["toolCallId"]: r for r in result.tool_results}
    assert results["c1"]["output"] == {"sum": 5}
    assert "not available" in results["c2"]["output"]["error"]


def test_an_operator_switch_and_approval_hold_under_the_new_name(make_agent, ctx, openai_server):
    make_agent(tools=[], toolkits=[ToolkitUse(toolkit="testkit", rename={"test_add": "plus"})])
    tool_set_enabled(tool_id="test_add", enabled=False)
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi")
    assert "plus" not in _offered(openai_server)
    assert "test_whoami" in _offered(openai_server)

    tool_set_enabled(tool_id="test_add", enabled=True)
    make_agent(
        tools=[], toolkits=[ToolkitUse(toolkit="testkit", rename={"test_add": "plus"})], require_approval=True
    )
    openai_server.reset()
    openai_server.script(ChatReply(tool_calls=[ToolCall(id="c1", name="plus", arguments={"a": 1, "b": 2})]))
    result = generate("helper", context=ctx, prompt="add")
    assert CALLS["add"] == []  # waits for a person's decision under its new name too
    assert result.status == "suspended"
    assert [(p["toolCallId"], p["kind"]) for p in result.pending_tool_calls] == [("c1", "approval")]


def test_shadowing_and_excluding_reach_the_model(make_agent, ctx, openai_server):
    make_agent(
        tools=[],
        toolkits=[ToolkitUse(toolkit="testkit", only=("test_add",), rename={"test_add": "render_data"})],
    )
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi")
    assert _offered(openai_server) == {"render_data": "Add two integers"}

    make_agent(tools=["test_add"], toolkits=[], ambient_exclude=["render_data"])
    openai_server.reset()
    openai_server.script(ChatReply(text="ok"))
    generate("helper", context=ctx, prompt="hi")
    assert set(_offered(openai_server)) == {"test_add"}


def test_unknown_toolkits_and_tools_are_refused_by_field(db):
    tools_sync()
    with pytest.raises(ValidationFailed) as refused:
        agent_save(
            slug="bad",
            name="Bad",
            instructions="x",
            model="openai/gpt-4o-mini",
            toolkits=[ToolkitUse(toolkit="nope"), ToolkitUse(toolkit="testkit", only=("test_nothing",))],
            ambient_exclude=["not_ambient"],
        )
    details = refused.value.details
    assert "Unknown toolkit 'nope'" in details["toolkits.0.toolkit"][0]
    assert "test_nothing" in details["toolkits.1.only"][0]
    assert "not_ambient" in details["ambientExclude"][0]
    assert not Agent.objects.filter(slug="bad").exists()


def test_versions_keep_the_toolkits_and_rollback_restores_them(make_agent):
    agent = make_agent(toolkits=[ToolkitUse(toolkit="testkit", prefix="t_")])
    make_agent(toolkits=[])
    first, second = agent.versions.order_by("number")
    assert first.config["toolkits"] == [
        {"toolkit": "testkit", "only": [], "except": [], "prefix": "t_", "rename": {}}
    ]
    assert second.config["toolkits"] == []
    agent_rollback(agent=agent, number=first.number)
    assert list(agent.toolkit_uses.values_list("toolkit", "prefix")) == [("testkit", "t_")]


def _inline(index: int, **row: str) -> dict[str, str]:
    base = {"position": str(index), "toolkit": "", "only": "", "exclude": "", "prefix": "", "rename": ""}
    return {f"toolkit_uses-{index}-{k}": v for k, v in {**base, **row}.items()}


def test_admin_composes_toolkits_in_fields_and_shows_the_effective_tools(admin_client, openai_server):
    tools_sync()
    data = form_data(tools=["test_whoami"], ambient_exclude=[])
    data.update({"toolkit_uses-TOTAL_FORMS": "2"})
    data.update(_inline(0, toolkit="testkit", only="test_add, test_explode", rename="test_add=plus"))
    data.update(_inline(1, toolkit="agents", only="current_time", prefix="clock_"))
    response = admin_client.post(reverse("admin:agents_agent_add"), data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors
    agent = Agent.objects.get(slug="support")
    assert agent.versions.get().config["toolkits"][0]["rename"] == {"test_add": "plus"}

    page = admin_client.get(reverse("admin:agents_agent_change", args=[agent.pk])).content.decode()
    panel = page.split('class="effective-tools"', 1)[1].split("</table>", 1)[0]
    rows = [r for r in panel.split("<tr>")[2:]]
    assert [r.split("<code>")[1].split("</code>")[0] for r in rows] == [
        "test_whoami",
        "plus",
        "test_explode",
        "clock_current_time",
        "render_data",
    ]
    assert "allowlist" in rows[0]
    assert "toolkit testkit</td><td>test_add</td>" in rows[1]
    assert "toolkit agents</td><td>current_time</td>" in rows[3]
    assert "ambient" in rows[4]
    assert "test_add=plus</textarea>" in page  # the rename, shown back as text


def test_admin_refuses_unknown_tools_and_ambient_names_with_field_errors(admin_client, openai_server):
    tools_sync()
    data = form_data(ambient_exclude=["not_ambient"])
    data.update({"toolkit_uses-TOTAL_FORMS": "1"})
    data.update(_inline(0, toolkit="testkit", only="test_nothing", rename="bad line"))
    response = admin_client.post(reverse("admin:agents_agent_add"), data)
    assert response.status_code == 200
    form_errors = response.context["adminform"].form.errors
    assert "not_ambient" in str(form_errors["ambient_exclude"])
    inline_errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "tool_id=new_name" in str(inline_errors["rename"])
    assert not Agent.objects.filter(slug="support").exists()

    data = form_data()
    data.update({"toolkit_uses-TOTAL_FORMS": "1"})
    data.update(_inline(0, toolkit="testkit", only="test_nothing"))
    response = admin_client.post(reverse("admin:agents_agent_add"), data)
    inline_errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "test_nothing (it has test_add, test_whoami, test_explode)" in inline_errors["only"][0]

    data = form_data()
    data.update({"toolkit_uses-TOTAL_FORMS": "1"})
    data.update(_inline(0, toolkit="unknown"))
    response = admin_client.post(reverse("admin:agents_agent_add"), data)
    inline_errors = response.context["inline_admin_formsets"][0].formset.errors[0]
    assert "unknown is not one of the available choices" in str(inline_errors["toolkit"])


def test_a_pinned_version_runs_with_that_versions_toolkits(make_agent, ctx):
    agent = make_agent(toolkits=[ToolkitUse(toolkit="testkit", prefix="t_")], ambient_exclude=["render_data"])
    make_agent(toolkits=[], ambient_exclude=[])
    first = agent.versions.order_by("number").first()
    current = agent_spec_load(slug="helper", tenant_id=ctx.tenant_id)

    pinned = agent_spec_version(current, first.number)

    assert current.toolkits == ()
    assert pinned.toolkits == (ToolkitUse(toolkit="testkit", prefix="t_"),)
    assert pinned.ambient_exclude == frozenset({"render_data"})


def test_the_api_lists_each_agents_effective_tools_as_the_admin_panel_does(make_agent, api_client):
    make_agent(
        tools=["test_whoami"],
        toolkits=[
            ToolkitUse(toolkit="testkit", only=("test_add", "test_explode"), rename={"test_add": "plus"}),
            ToolkitUse(toolkit="agents", only=("current_time",), prefix="clock_"),
        ],
    )
    make_agent(
        "shadowing",
        tools=[],
        toolkits=[ToolkitUse(toolkit="testkit", only=("test_add",), rename={"test_add": "render_data"})],
    )
    make_agent("excluding", tools=["test_add"], ambient_exclude=["render_data"])
    tool_set_enabled(tool_id="test_explode", enabled=False)

    detail = api_client.get("/api/agents/helper").json()["effectiveTools"]
    assert detail["tools"] == [
        {"name": "test_whoami", "toolId": "test_whoami", "source": "explicit", "toolkit": "", "renamedFrom": "", "state": "offered"},
        {"name": "plus", "toolId": "test_add", "source": "toolkit", "toolkit": "testkit", "renamedFrom": "test_add", "state": "offered"},
        {"name": "test_explode", "toolId": "test_explode", "source": "toolkit", "toolkit": "testkit", "renamedFrom": "", "state": "switched_off"},
        {"name": "clock_current_time", "toolId": "current_time", "source": "toolkit", "toolkit": "agents", "renamedFrom": "current_time", "state": "offered"},
        {"name": "render_data", "toolId": "render_data", "source": "ambient", "toolkit": "", "renamedFrom": "", "state": "offered"},
    ]  # fmt: skip
    assert (detail["shadowed"], detail["excluded"], detail["clashes"]) == ([], [], [])

    listed = {a["id"]: a["effectiveTools"] for a in api_client.get("/api/agents").json()}
    assert listed["helper"] == detail
    assert [t["name"] for t in listed["shadowing"]["tools"]] == ["render_data"]
    assert listed["shadowing"]["tools"][0]["toolId"] == "test_add"
    assert listed["shadowing"]["shadowed"] == ["render_data"]
    assert [t["name"] for t in listed["excluding"]["tools"]] == ["test_add"]
    assert listed["excluding"]["excluded"] == ["render_data"]
