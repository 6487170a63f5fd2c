"""Background work without a worker runs here; with one it is enqueued; never on the caller's path."""

from __future__ import annotations

import threading
import time

import pytest

from memory import dispatch

pytestmark = pytest.mark.django_db


class _Task:
    name = "fake.task"

    def __init__(self) -> None:
        self.enqueued: list[tuple[object, ...]] = []

    def delay(self, *args: object) -> None:
        self.enqueued.append(args)


def test_without_a_worker_the_work_runs_inline(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dispatch, "_last_check", (time.monotonic(), False))
    task, ran = _Task(), list[str]()
    dispatch.dispatch(task, ran.append, "m1")
    dispatch.wait_idle()
    assert (ran, task.enqueued) == (["m1"], [])


def test_with_a_worker_the_work_is_enqueued(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dispatch, "_last_check", (time.monotonic(), True))
    task, ran = _Task(), list[str]()
    dispatch.dispatch(task, ran.append, "m1")
    dispatch.wait_idle()
    assert (ran, task.enqueued) == ([], [("m1",)])


def test_inline_failures_are_logged_not_raised(settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def boom(_: str) -> None:
        raise RuntimeError("embedder down")

    dispatch.dispatch(_Task(), boom, "m1")
    assert "will be retried" in caplog.text


def test_the_caller_never_waits_for_the_broker(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dispatch, "_last_check", (time.monotonic(), True))
    published = threading.Event()

    class _SlowBroker(_Task):
        def delay(self, *args: object) -> None:
            time.sleep(0.2)
            super().delay(*args)
            published.set()

    task = _SlowBroker()
    started = time.monotonic()
    dispatch.dispatch(task, print, "m1")
    assert time.monotonic() - started < 0.1
    assert published.wait(5)
    assert task.enqueued == [("m1",)]
