"""The Celery application's process hooks."""

from __future__ import annotations

from typing import Any

import pytest

from config import celery
from memory import embedders


@pytest.mark.slow
def test_a_worker_process_loads_the_embedder_in_the_background(settings: Any, monkeypatch: Any) -> None:
    settings.EMBEDDER = "local"
    settings.EMBEDDER_PRELOAD = True
    monkeypatch.setattr(embedders, "_cache", {})  # as in a freshly started worker process

    thread = celery._warm_embedder()

    assert thread is not None
    thread.join(timeout=120)
    assert not thread.is_alive()
    loaded: Any = embedders._cache["local"]
    assert loaded._model is not None  # loaded before any task asked for it


def test_without_preloading_a_worker_process_loads_nothing(settings: Any, monkeypatch: Any) -> None:
    settings.EMBEDDER_PRELOAD = False
    monkeypatch.setattr(embedders, "_cache", {})

    assert celery._warm_embedder() is None
    assert embedders._cache == {}
