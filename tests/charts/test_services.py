"""The chart planner job with the scripted model: a valid option settles the chart as ready,
a failing or nonsensical planner as failed; the entry's TTL and owner scoping."""

from __future__ import annotations

from typing import Any

import pytest

from charts.services import chart_create
from charts.store import _sync, chart_key, entry_read
from tests.charts.conftest import ROWS, plan_reply
from tests.fakes.openai_server import ChatReply, Fault

pytestmark = pytest.mark.django_db


def _create(owner_ids: dict[str, Any], **overrides: Any) -> str:
    fields: dict[str, Any] = {
        "title": "Revenue",
        "description": "by month",
        "rows": ROWS,
        "model": "scripted/fast-test",
    }
    return chart_create(**owner_ids, **{**fields, **overrides})


def _entry(owner_ids: dict[str, Any], chart_id: str) -> Any:
    return entry_read(chart_key(chart_id=chart_id, **owner_ids))


def test_the_planner_answers_a_valid_option_and_the_chart_is_ready(openai_server, owner_ids, settings):
    settings.CHART_TTL_S = 120
    openai_server.script(plan_reply())

    chart_id = _create(owner_ids)

    entry = _entry(owner_ids, chart_id)
    assert entry.status == "ready"
    assert entry.chartType == "bar"
    assert entry.option["xAxis"]["data"] == ["Jan", "Feb", "Mar"]
    assert entry.option["series"][0]["data"] == [120.5, 98.0, 143.25]
    assert entry.rows is None  # the rows are dropped once planned
    key = chart_key(chart_id=chart_id, **owner_ids)
    assert 100 < _sync().ttl(key) <= 120
    request = openai_server.chat_requests[0]
    assert request.body["model"] == "fast-test"
    assert request.body["response_format"]["json_schema"]["name"] == "echarts_option"
    assert "series" in str(request.body["response_format"]["json_schema"]["schema"])
    assert '"month": "Feb"' in request.messages[-1]["content"]


def test_a_planner_answer_that_is_not_a_chart_fails_the_chart(openai_server, owner_ids):
    openai_server.script(
        ChatReply(text='{"chartType": "bar", "option": {"series": [{"type": "bar", "data": [1]}]}}')
    )

    entry = _entry(owner_ids, _create(owner_ids))

    assert entry.status == "failed"
    assert "xAxis and a yAxis" in entry.error
    assert entry.option is None


def test_a_planner_that_fails_fails_the_chart(openai_server, owner_ids):
    openai_server.script(Fault(status=400, message="no such model"))

    entry = _entry(owner_ids, _create(owner_ids))

    assert entry.status == "failed"
    assert entry.error.startswith("The chart model failed")


def test_a_chart_is_stored_under_its_owner_only(openai_server, owner_ids, user):
    openai_server.script(plan_reply())
    chart_id = _create(owner_ids)
    assert (
        entry_read(chart_key(tenant_id=owner_ids["tenant_id"], owner_id=user.pk + 1, chart_id=chart_id))
        is None
    )
    assert (
        entry_read(chart_key(tenant_id=owner_ids["tenant_id"] + 1, owner_id=user.pk, chart_id=chart_id))
        is None
    )
