"""The collector tuning applied once the apps are ready (core.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from django.conf import settings

from core.collector import collector_tune


@pytest.fixture
def restored() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)


def test_the_process_was_tuned_when_its_apps_became_ready() -> None:
    assert settings.GC_GEN0_THRESHOLD > 700
    assert gc.get_threshold()[0] == settings.GC_GEN0_THRESHOLD
    assert gc.get_freeze_count() > 10_000  # Django's modules and models, frozen out of collection


def test_tuning_keeps_the_older_generations_thresholds(restored: None) -> None:
    gc.set_threshold(700, 11, 12)
    collector_tune(5000)
    assert gc.get_threshold() == (5000, 11, 12)


def test_zero_leaves_the_interpreters_settings(restored: None) -> None:
    gc.set_threshold(700, 10, 10)
    young = [[i] for i in range(1000)]  # tracked objects a freeze would move out of collection
    frozen = gc.get_freeze_count()
    collector_tune(0)
    assert gc.get_threshold() == (700, 10, 10)
    # Nothing was frozen (the count may drop as frozen objects are freed meanwhile).
    assert gc.get_freeze_count() <= frozen
    assert len(young) == 1000
