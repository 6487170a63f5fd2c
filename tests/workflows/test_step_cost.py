"""What one more step of a sequence costs the engine, counted: database statements (each a
round trip) and Celery messages. A sequence runs in one claim, each step's result committed
with the start of the next; the figures are in docs/benchmarks.md. And what beat's sweep costs
every second when nothing is due."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from workflows import services, sweeps
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def _cost(actor: Any, workflow_id: str, monkeypatch: Any) -> tuple[int, int]:
    from workflows import tasks

    sent: list[str] = []
    original = tasks.run_advance.delay

    def delay(run_id: str) -> Any:
        sent.append(run_id)
        return original(run_id)

    monkeypatch.setattr(tasks.run_advance, "delay", delay)
    with CaptureQueriesContext(connection) as queries:
        run = services.run_start(actor=actor, workflow_id=workflow_id, input_data={"value": 0})
    assert WorkflowRun.objects.get(pk=run.pk).status == "success"
    return len(queries), len(sent)


def test_one_more_step_costs_few_statements_and_no_message(actor: Any, monkeypatch: Any) -> None:
    _cost(actor, "t-five", monkeypatch)  # warm: definitions, content types
    five, five_sent = _cost(actor, "t-five", monkeypatch)
    ten, ten_sent = _cost(actor, "t-ten", monkeypatch)
    per_step = (ten - five) / 5
    print(f"statements per step: {per_step}; messages per run: {ten_sent}")
    assert ten_sent == five_sent == 1  # one message a run: the steps run in the claim
    assert per_step <= 8, (
        per_step
    )  # 12 before: the journal in three reads, events one by one, the run read again


def test_a_sweep_with_nothing_due_is_one_statement(actor: Any) -> None:
    services.run_start(actor=actor, workflow_id="t-suspend", input_data={"value": 1})  # waits, not stuck
    sweeps.runs_sweep(retention=True)
    with CaptureQueriesContext(connection) as queries:
        assert sweeps.runs_sweep() == 0  # retention ran a moment ago: not again for 10 minutes
    assert len(queries) == 1, [q["sql"] for q in queries.captured_queries]
