"""Workflows on real Celery worker processes: every construct, retries, a worker SIGKILLed
mid-step, suspensions resumed one at a time, cancel into a nested workflow, restart from a
step, and a definition changed while a run is in flight."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.conftest import attempts_of, completed
from tests.workflows.defs import effects
from tests.workflows.worker import wait_until
from workflows import services
from workflows.models import Event, Suspension, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def status_of(run: WorkflowRun) -> str:
    run.refresh_from_db()
    return run.status


def until_status(run: WorkflowRun, *statuses: str, timeout_s: float = 60.0) -> WorkflowRun:
    wait_until(lambda: status_of(run) in statuses, timeout_s, f"run {run.workflow_id} to be {statuses}")
    return run


def test_every_construct_on_a_worker(actor: Any, workers: Any, sweeper: Any) -> None:
    workers(concurrency=2)
    cases = [
        ("t-sequence", {"value": 1}, {"value": 5}),
        ("t-parallel", {"value": 3}, {"value": 10}),
        ("t-branch", {"value": 30}, {"value": 60}),
        ("t-dountil", {"value": 1}, {"value": 5}),
        ("t-dowhile", {"value": 3}, {"value": 24}),
        ("t-foreach", {"values": [1, 2, 3]}, {"values": [2, 4, 6]}),
        ("t-sleep", {"value": 1}, {"value": 3}),
        ("t-long-sleep", {"value": 1}, {"value": 2}),  # past the inline wait: woken by the sweep
        ("t-nested", {"value": 1}, {"value": 7}),
        ("t-state", {"value": 1}, {"value": 2}),
        ("t-retry", {"value": 1}, {"value": 102}),
    ]
    runs = [
        (services.run_start(actor=actor, workflow_id=wid, input_data=data), output)
        for wid, data, output in cases
    ]
    for run, output in runs:
        until_status(run, "success", "failed")
        assert run.status == "success", (run.workflow_id, run.error)
        assert run.output == output
        assert all(n == 1 for n in completed(run).values()), run.workflow_id
    retry = next(r for r, _ in runs if r.workflow_id == "t-retry")
    assert [a.status for a in attempts_of(retry, "1:flaky")] == ["failed", "failed", "success"]
    failing = services.run_start(actor=actor, workflow_id="t-failing", input_data={"value": 1})
    until_status(failing, "failed")
    assert (failing.error or {})["message"] == "always broken"


def test_a_worker_killed_mid_step_leaves_a_run_another_worker_finishes(
    actor: Any, workers: Any, sweeper: Any
) -> None:
    first = workers(WF_TEST_SLOW_S="30")
    run = services.run_start(actor=actor, workflow_id="t-crash", input_data={"value": 1})
    wait_until(lambda: ("1:slow", "start") in effects(run.pk), 60, "the slow step to start")
    first.kill()
    workers(WF_TEST_SLOW_S="0.1")
    until_status(run, "success", "failed")
    assert run.status == "success", run.error
    assert run.output == {"value": 13}
    assert completed(run) == {"0:add-one": 1, "1:slow": 1, "2:add-one": 1}
    done = effects(run.pk)
    assert done.count(("0:add-one", "")) == 1  # the completed step did not run again
    assert done.count(("1:slow", "start")) == 2
    assert done.count(("1:slow", "end")) == 1
    assert [a.status for a in attempts_of(run, "1:slow")] == ["abandoned", "success"]
    assert run.attempt >= 2


def test_an_at_most_once_step_cut_off_fails_visibly(actor: Any, workers: Any, sweeper: Any) -> None:
    first = workers(WF_TEST_SLOW_S="30")
    run = services.run_start(actor=actor, workflow_id="t-once", input_data={"value": 1})
    wait_until(lambda: ("1:once", "start") in effects(run.pk), 60, "the at-most-once step to start")
    first.kill()
    workers()
    until_status(run, "failed")
    assert (run.error or {})["code"] == "at_most_once"
    assert effects(run.pk).count(("1:once", "start")) == 1
    assert Event.objects.filter(run=run).last().type == "workflow-failed"  # type: ignore[union-attr]


def test_parallel_and_foreach_suspensions_resume_one_at_a_time(
    actor: Any, workers: Any, sweeper: Any
) -> None:
    workers()
    loop = services.run_start(actor=actor, workflow_id="t-foreach-suspend", input_data={"values": [1, 2]})
    par = services.run_start(actor=actor, workflow_id="t-parallel-suspend", input_data={"value": 2})
    until_status(loop, "suspended")
    until_status(par, "suspended")
    wait_until(lambda: Suspension.objects.filter(run=loop, status="open").count() == 2, 30, "two suspensions")
    services.run_resume(actor=actor, run=loop, step="1:ask[0]", resume_data={"answer": 100})
    wait_until(lambda: "1:ask[0]" in completed(loop), 30, "iteration 0 to finish")
    until_status(loop, "suspended", "success")
    assert loop.status == "suspended"
    sibling = Suspension.objects.get(run=loop, path="1:ask[1]")
    assert (sibling.status, sibling.payload) == ("open", {"question": "what to add to 2?"})
    assert ("1:ask[1]", "resumed") not in effects(loop.pk)
    services.run_resume(actor=actor, run=loop, step="1:ask[1]", resume_data={"answer": 200})
    until_status(loop, "success")
    assert loop.output == {"values": [101, 202]}

    services.run_resume(actor=actor, run=par, step="ask-other", resume_data={"answer": 3})
    wait_until(lambda: "0:parallel/ask-other" in completed(par), 30, "one branch to finish")
    until_status(par, "suspended", "success")
    assert par.status == "suspended"
    assert Suspension.objects.get(run=par, path="0:parallel/ask").status == "open"
    services.run_resume(actor=actor, run=par, step="ask", resume_data={"answer": 1})
    until_status(par, "success")
    assert par.output == {"value": 3 + 6}


def test_cancel_cascades_into_a_nested_workflow(actor: Any, workers: Any, sweeper: Any) -> None:
    workers()
    run = services.run_start(actor=actor, workflow_id="t-cancel-nested", input_data={"value": 1})
    path = "1:t-cancel-child/0:until-cancelled"
    wait_until(lambda: (path, "start") in effects(run.pk), 60, "the nested step to start")
    services.run_cancel(actor=actor, run=run)
    until_status(run, "canceled")
    assert (path, "saw-cancel") in effects(run.pk)
    assert "1:t-cancel-child/1:add-one" not in completed(run)
    assert "2:add-one" not in completed(run)
    assert Event.objects.filter(run=run).last().type == "workflow-canceled"  # type: ignore[union-attr]


def test_restart_from_a_step_on_a_worker(actor: Any, workers: Any, sweeper: Any) -> None:
    workers()
    run = services.run_start(actor=actor, workflow_id="t-crash", input_data={"value": 1})
    until_status(run, "success")
    services.run_restart(actor=actor, run=run, step="slow")
    wait_until(lambda: status_of(run) == "success" and run.generation == 2, 60, "the restarted run")
    assert run.output == {"value": 13}
    paths = [p for p, label in effects(run.pk) if label in ("", "end")]
    assert paths.count("0:add-one") == 1
    assert paths.count("1:slow") == 2
    assert paths.count("2:add-one") == 2


def test_a_run_finishes_on_the_version_it_started_on(actor: Any, workers: Any, sweeper: Any) -> None:
    from tests.workflows.defs import define_versioned_v2
    from workflows.registry import registry

    first = workers()
    old = services.run_start(actor=actor, workflow_id="t-versioned", input_data={"value": 1})
    until_status(old, "suspended")
    first.stop()
    define_versioned_v2()  # the deploy: this process and the next worker know version 2 as well
    try:
        workers(WF_TEST_VERSIONED="2")
        new = services.run_start(actor=actor, workflow_id="t-versioned", input_data={"value": 1})
        assert new.version == "2"
        until_status(new, "suspended")
        services.run_resume(actor=actor, run=old, step="ask", resume_data={"answer": 4})
        services.run_resume(actor=actor, run=new, step="ask", resume_data={"answer": 4})
        until_status(old, "success")
        until_status(new, "success")
        assert (old.version, old.output) == ("1", {"value": 6})  # v1 adds one
        assert (new.version, new.output) == ("2", {"value": 10})  # v2 doubles
    finally:
        registry.unregister("t-versioned", "2")
