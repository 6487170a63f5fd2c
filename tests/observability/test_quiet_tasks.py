"""The routine lines of frequent housekeeping tasks stay out of the log; everything else stays in."""

from __future__ import annotations

import logging

import pytest
from celery.app.trace import LOG_SUCCESS
from celery.worker.strategy import logger as strategy_logger  # noqa: F401 - the worker's logger exists


@pytest.fixture
def heard(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def _success(name: str) -> None:
    logging.getLogger("celery.app.trace").info(
        LOG_SUCCESS, {"id": "c0ffee", "name": name, "return_value": {"fired": 0}, "runtime": 0.001}
    )


def test_the_workflow_sweep_lines_are_dropped_and_other_tasks_lines_kept(
    heard: pytest.LogCaptureFixture,
) -> None:
    logging.getLogger("celery.beat").info(
        "Scheduler: Sending due task %s (%s)", "workflows-sweep", "workflows.runs_sweep"
    )
    logging.getLogger("celery.worker.strategy").info(
        "Task %(name)s[%(id)s] received", {"id": "c0ffee", "name": "workflows.runs_sweep"}
    )
    _success("workflows.runs_sweep")
    _success("evals.tasks.experiment_run")
    logging.getLogger("celery.beat").info(
        "Scheduler: Sending due task %s (%s)", "runs-sweep", "agents.tasks.runs_sweep"
    )

    messages = [record.getMessage() for record in heard.records]
    assert messages == [
        "Task evals.tasks.experiment_run[c0ffee] succeeded in 0.001s: {'fired': 0}",
        "Scheduler: Sending due task runs-sweep (agents.tasks.runs_sweep)",
    ]


def test_a_failing_sweep_is_still_logged(heard: pytest.LogCaptureFixture) -> None:
    logging.getLogger("celery.app.trace").error(
        "Task %(name)s[%(id)s] raised unexpected: %(exc)s",
        {"id": "c0ffee", "name": "workflows.runs_sweep", "exc": "OperationalError()"},
    )
    assert [record.levelname for record in heard.records] == ["ERROR"]
