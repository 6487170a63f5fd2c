"""`render_data` in a run: ambient for every agent, refused rows go back to the model as a
validation error, accepted rows return a chart id at once and the chart gets planned."""

from __future__ import annotations

from typing import Any

import pytest

from agents.providers import catalog
from agents.runtime import generate
from core.context import RequestContext
from tests.charts.conftest import ROWS, plan_reply
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(user: Any) -> RequestContext:
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def _tool_message(openai_server: Any) -> str:
    return next(m for m in openai_server.chat_requests[-1].messages if m["role"] == "tool")["content"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "data: List should have at least 1 item"),
        ([{"a": 1}, {"a": 2}, {"a": 3}, {"a": 4}], "at most 3 rows per chart, got 4"),
        ([1, 2, 3], "data.0: Input should be a valid dictionary"),
        ("rows", "data: Input should be a valid list"),
        ([{}], "every row needs at least one column"),
    ],
)
def test_rows_it_cannot_chart_are_a_validation_error_for_the_model(
    make_agent, ctx, openai_server, settings, data, expected
):
    settings.CHART_MAX_ROWS = 3
    make_agent(tools=[])
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="render_data", arguments={"title": "T", "data": data})]),
        ChatReply(text="Sorry."),
    )

    generate("helper", context=ctx, prompt="chart it")

    content = _tool_message(openai_server)
    assert "Invalid arguments" in content
    assert expected in content
    assert len(openai_server.chat_requests) == 2  # no planner was asked


# Committed rows: the tool (and the eager planner job in it) runs on its own thread and connection.
@pytest.mark.django_db(transaction=True)
def test_rows_return_a_chart_id_and_without_a_fast_model_the_runs_model_plans_it(
    make_agent, ctx, openai_server, api_client, settings
):
    settings.MODEL_MAX_RETRIES = 0  # the fast tier's top model is tried once on a provider that is down
    catalog.cache_clear()
    make_agent(tools=[], model="scripted/agent-model")
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="render_data", arguments={"title": "Revenue", "data": ROWS})]),
        plan_reply(),  # the planner job (run at once by the test settings' eager Celery)
        ChatReply(text="Done."),
    )

    result = generate("helper", context=ctx, prompt="chart it")

    assert not result.tool_results[0]["isError"], result.tool_results
    chart_id = result.tool_results[0]["output"]["chartId"]
    planner = openai_server.chat_requests[1]
    assert planner.body["model"] == "agent-model"
    assert planner.body["response_format"]["json_schema"]["name"] == "echarts_option"
    chart = api_client.get(f"/api/embed/chart/{chart_id}").json()
    assert chart["status"] == "ready"
    assert chart["title"] == "Revenue"
    assert chart["option"]["series"][0]["type"] == "bar"


@pytest.mark.django_db(transaction=True)
def test_a_deployed_fast_tier_model_plans_the_chart(make_agent, ctx, openai_server):
    catalog.cache_clear()
    openai_server.set_models(["gpt-test", "gpt-4o-mini"])  # gpt-4o-mini is in the fast tier
    make_agent(tools=[], model="scripted/gpt-test")
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="render_data", arguments={"title": "Revenue", "data": ROWS})]),
        plan_reply(),
        ChatReply(text="Done."),
    )
    try:
        generate("helper", context=ctx, prompt="chart it")
    finally:
        catalog.cache_clear()
    assert [r.body["model"] for r in openai_server.chat_requests] == ["gpt-test", "gpt-4o-mini", "gpt-test"]


@pytest.mark.django_db(transaction=True)
def test_chart_model_setting_picks_the_planner(make_agent, ctx, openai_server, settings):
    settings.CHART_MODEL = "scripted/fast-model"
    make_agent(tools=[])
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="render_data", arguments={"title": "Revenue", "data": ROWS})]),
        plan_reply(),
        ChatReply(text="Done."),
    )
    generate("helper", context=ctx, prompt="chart it")
    assert openai_server.chat_requests[1].body["model"] == "fast-model"
