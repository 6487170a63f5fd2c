"""Actors of the owner model and helpers for runs; real workers live in `worker.py`."""

from __future__ import annotations

from typing import Any

import pytest

from core.access import Actor, actor_for_user
from tests.factories import UserFactory
from tests.workflows.worker import broker, sweeper, workers  # noqa: F401 - fixtures of this folder
from workflows.models import StepAttempt, WorkflowRun


@pytest.fixture
def actor(user: Any) -> Actor:
    return actor_for_user(user)


@pytest.fixture
def other_actor(tenant: Any) -> Actor:
    user: Any = UserFactory(tenant=tenant)
    return actor_for_user(user)


def completed(run: WorkflowRun) -> dict[str, int]:
    """How many times each step path completed in the run's journal (every generation)."""
    counts: dict[str, int] = {}
    for path in StepAttempt.objects.filter(run=run, status="success").values_list("path", flat=True):
        counts[path] = counts.get(path, 0) + 1
    return counts


def attempts_of(run: WorkflowRun, path: str) -> list[StepAttempt]:
    return list(StepAttempt.objects.filter(run=run, path=path).order_by("id"))
