"""The demo agent with the scripted demo model: asking for the sales ends in a planned chart
whose marker sits between the answer's two paragraphs."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from agents.runtime import generate
from charts.store import chart_key, entry_read
from core.context import RequestContext
from tests.fakes.responders import demo_responder

pytestmark = pytest.mark.django_db(transaction=True)  # tools run on their own connections


def test_the_demo_agent_charts_the_demo_sales(openai_server: Any, settings: Any, tmp_path: Path, user: Any):
    settings.BASE_DIR = tmp_path
    settings.DEFAULT_MODEL = "scripted/demo"
    settings.MODEL_MAX_RETRIES = 0  # no fast-tier model is deployed: the run's model plans the chart
    call_command("seed_demo", stdout=io.StringIO())
    openai_server.respond_with(demo_responder)
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)

    result = generate("assistant", context=ctx, prompt="Show me a chart of the demo sales")

    assert [r["toolName"] for r in result.tool_results] == ["demo_sales", "render_data"]
    before, marker, after = re.split(r"^\[chart:([0-9a-f-]{36})\]$", result.text, flags=re.MULTILINE)
    assert before.strip()
    assert after.strip()
    chart = entry_read(chart_key(tenant_id=ctx.tenant_id, owner_id=user.pk, chart_id=marker))
    assert chart is not None
    assert chart.status == "ready"
    assert chart.option is not None
    assert len(chart.option["xAxis"]["data"]) == 12
    assert chart.option["series"][0]["name"] == "revenue"
