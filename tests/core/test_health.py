"""`GET /api/health`: every component with a status and a reason, no authentication, no secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from core import health
from memory.services import memory_context_build
from tests.memory.conftest import config, say

pytestmark = pytest.mark.django_db(transaction=True)

COMPONENTS = {"database", "redis", "worker", "embedder", "token_counter"}


@pytest.fixture(autouse=True)
def _no_notes() -> Iterator[None]:
    health._notes.clear()
    yield
    health._notes.clear()


def test_all_ok_answers_200_without_authentication() -> None:
    response = APIClient().get("/api/health")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == COMPONENTS
    assert {c["status"] for c in body["components"].values()} == {"ok"}


def test_redis_down_answers_503_naming_the_component_not_the_address(settings: Any) -> None:
    settings.REDIS_URL = "redis://:hunter2-secret@127.0.0.1:9/0"

    response = APIClient().get("/api/health")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "down"
    assert body["components"]["redis"]["status"] == "down"
    assert body["components"]["database"]["status"] == "ok"
    assert "127.0.0.1" not in response.content.decode()
    assert "hunter2" not in response.content.decode()


def test_a_failed_recall_is_logged_once_and_shown_as_degraded(
    settings: Any, tenant: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.EMBEDDER = "nowhere/embed-model"  # no such provider: every embedding fails
    say(tenant.pk, "t", "u1", "user", "something to recall")
    cfg = config(last_messages=2, semantic_recall={"top_k": 1, "message_range": 0, "scope": "resource"})

    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            context = memory_context_build(
                tenant_id=tenant.pk, thread_id="t2", resource_id="u1", config=cfg, query="recall it"
            )
            assert context.recalled == []  # the run goes on without recall
    response = APIClient().get("/api/health")

    assert len([r for r in caplog.records if "recall" in r.getMessage()]) == 1
    assert response.status_code == 200  # degraded still serves
    body = response.json()
    assert body["status"] == "degraded"
    assert body["components"]["embedder"]["status"] == "degraded"
    assert "semantic recall failed" in body["components"]["embedder"]["reason"]
