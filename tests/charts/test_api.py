"""`GET /api/embed/chart/<id>`: answers at once when settled, waits for a change otherwise,
gives up at the server-side timeout, and answers 404 for another owner's chart."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from charts.schemas import ChartEntry
from charts.services import chart_create
from charts.store import chart_key, entry_write
from tests.charts.conftest import ROWS, plan_reply
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _queued(owner_ids: dict[str, Any], status: str = "queued") -> tuple[str, str]:
    chart_id = str(uuid.uuid4())
    key = chart_key(chart_id=chart_id, **owner_ids)
    entry_write(key, ChartEntry(chartId=chart_id, status=status, title="Pending", rows=ROWS), ttl_s=60)  # type: ignore[arg-type]
    return chart_id, key


def test_a_ready_chart_is_answered_at_once(api_client, openai_server, owner_ids):
    openai_server.script(plan_reply())
    chart_id = chart_create(**owner_ids, title="Revenue", description=None, rows=ROWS, model="scripted/m")

    started = time.monotonic()
    response = api_client.get(f"/api/embed/chart/{chart_id}")

    assert time.monotonic() - started < 1
    assert response.status_code == 200
    body = response.json()
    assert (body["chartId"], body["status"], body["chartType"]) == (chart_id, "ready", "bar")
    assert body["error"] is None
    assert not {"rows", "model"} & set(body)


def test_a_pending_chart_is_answered_as_it_is_at_the_timeout(api_client, owner_ids, settings):
    settings.CHART_POLL_TIMEOUT_S = 0.5
    chart_id, _ = _queued(owner_ids)

    started = time.monotonic()
    response = api_client.get(f"/api/embed/chart/{chart_id}")

    assert 0.45 <= time.monotonic() - started < 3
    assert response.status_code == 200
    assert response.json()["status"] == "queued"


def test_the_poll_answers_when_the_chart_settles(api_client, owner_ids, settings):
    settings.CHART_POLL_TIMEOUT_S = 10
    chart_id, key = _queued(owner_ids)
    option = {
        "xAxis": {"type": "category"},
        "yAxis": {"type": "value"},
        "series": [{"type": "bar", "data": [1]}],
    }

    def settle() -> None:
        time.sleep(0.4)
        entry_write(
            key, ChartEntry(chartId=chart_id, status="ready", title="Pending", chartType="bar", option=option)
        )

    threading.Thread(target=settle).start()
    started = time.monotonic()
    response = api_client.get(f"/api/embed/chart/{chart_id}")

    assert 0.3 < time.monotonic() - started < 5
    assert response.json()["status"] == "ready"
    assert response.json()["option"] == option


def test_after_answers_as_soon_as_the_status_moves_on(api_client, owner_ids, settings):
    settings.CHART_POLL_TIMEOUT_S = 10
    chart_id, key = _queued(owner_ids)

    def start() -> None:
        time.sleep(0.3)
        entry_write(key, ChartEntry(chartId=chart_id, status="rendering", title="Pending"))

    threading.Thread(target=start).start()
    response = api_client.get(f"/api/embed/chart/{chart_id}?after=queued")
    assert response.json()["status"] == "rendering"
    assert api_client.get(f"/api/embed/chart/{chart_id}?after=done").status_code == 400


def test_another_owners_chart_and_an_unknown_one_are_not_found(api_client, openai_server, owner_ids, user):
    openai_server.script(plan_reply())
    chart_id = chart_create(**owner_ids, title="Revenue", description=None, rows=ROWS, model="scripted/m")
    colleague = APIClient()
    colleague.force_authenticate(user=UserFactory.create(tenant=user.membership.tenant))

    assert colleague.get(f"/api/embed/chart/{chart_id}").status_code == 404
    assert api_client.get(f"/api/embed/chart/{uuid.uuid4()}").status_code == 404
    missing = api_client.get("/api/embed/chart/not-a-uuid")
    assert missing.status_code == 404
    assert set(missing.json()) == {"code", "message", "details"}
    assert APIClient().get(f"/api/embed/chart/{chart_id}").status_code in (401, 403)
