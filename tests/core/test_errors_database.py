"""A database that cannot be reached answers 503 in the error shape, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import OperationalError, connections
from django.db.backends.postgresql.base import DatabaseWrapper

pytestmark = pytest.mark.django_db


def _real_outage() -> OperationalError:
    """The error Django raises when PostgreSQL does not answer (a closed port)."""
    settings = {**connections["default"].settings_dict, "HOST": "127.0.0.1", "PORT": "9", "OPTIONS": {}}
    wrapper = DatabaseWrapper(settings, alias="unreachable")
    try:
        wrapper.ensure_connection()
    except OperationalError as exc:
        return exc
    raise AssertionError("a closed port accepted a PostgreSQL connection")


def test_a_database_outage_is_a_503_with_retry_after(api_client: Any, monkeypatch: Any) -> None:
    outage = _real_outage()

    def unreachable(**_: Any) -> Any:
        raise outage

    monkeypatch.setattr("agents.api.views.selectors.agent_list", unreachable)
    response = api_client.get("/api/agents")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {
        "code": "database_unavailable",
        "message": "The database is busy or unavailable; try again shortly.",
        "details": {},
    }
