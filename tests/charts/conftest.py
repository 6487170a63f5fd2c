"""Charts are planned by the scripted model; agents come from the agents tests' factory."""

from __future__ import annotations

import json
from typing import Any

import pytest

from charts.schemas import Scalar
from tests.agents.conftest import make_agent  # noqa: F401  (fixture)
from tests.fakes.openai_server import ChatReply
from tests.fakes.responders import chart_plan_for

ROWS: list[dict[str, Scalar]] = [
    {"month": "Jan", "revenue": 120.5},
    {"month": "Feb", "revenue": 98.0},
    {"month": "Mar", "revenue": 143.25},
]


def plan_reply(rows: list[dict[str, Scalar]] = ROWS, title: str = "Revenue") -> ChatReply:
    """The planner's answer, as the demo model gives it: a bar chart of the rows."""
    return ChatReply(text=json.dumps(chart_plan_for({"title": title, "rows": rows})))


@pytest.fixture
def owner_ids(user: Any) -> dict[str, Any]:
    return {"tenant_id": user.membership.tenant_id, "owner_id": user.pk}
