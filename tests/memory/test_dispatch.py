"""Background work without a worker runs inline; with one it is enqueued."""

from __future__ import annotations

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
    assert (ran, task.enqueued) == (["m1"], [])


def test_with_a_worker_the_work_is_enqueued(settings, monkeypatch):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(dispatch, "_last_check", (time.monotonic(), True))
    task, ran = _Task(), list[str]()
    dispatch.dispatch(task, ran.append, "m1")
    assert (ran, task.enqueued) == ([], [("m1",)])


def test_inline_failures_are_logged_not_raised(settings, monkeypatch, caplog):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def boom(_: str) -> None:
        raise RuntimeError("embedder down")

    dispatch.dispatch(_Task(), boom, "m1")
    assert "will be retried" in caplog.text
