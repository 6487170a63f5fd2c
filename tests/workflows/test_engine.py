"""The engine in this process (Celery eager): every construct, retries, suspensions, state,
events, cancel and restart. The same code runs on real workers in test_worker.py."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from core.errors import Conflict, ValidationFailed
from tests.workflows.conftest import attempts_of, completed
from tests.workflows.defs import effects
from workflows import services
from workflows.engine.driver import run_advance
from workflows.errors import SuspensionConflict
from workflows.models import Event, FanIn, Suspension, Timer, WorkflowRun
from workflows.registry import registry

pytestmark = pytest.mark.django_db(transaction=True)


def start(actor: Any, workflow_id: str, data: Any, **kwargs: Any) -> WorkflowRun:
    run = services.run_start(actor=actor, workflow_id=workflow_id, input_data=data, **kwargs)
    run.refresh_from_db()
    return run


@pytest.mark.parametrize(
    ("workflow_id", "data", "output"),
    [
        ("t-sequence", {"value": 1}, {"value": 5}),
        ("t-parallel", {"value": 3}, {"value": 10}),
        ("t-branch", {"value": 3}, {"value": 4}),
        ("t-branch", {"value": 30}, {"value": 60}),
        ("t-dountil", {"value": 1}, {"value": 5}),
        ("t-dowhile", {"value": 3}, {"value": 24}),
        ("t-foreach", {"values": [1, 2, 3, 4, 5]}, {"values": [2, 4, 6, 8, 10]}),
        ("t-sleep", {"value": 1}, {"value": 3}),
        ("t-nested", {"value": 1}, {"value": 7}),
    ],
)
def test_every_construct_reaches_its_output(actor: Any, workflow_id: str, data: Any, output: Any) -> None:
    run = start(actor, workflow_id, data)
    assert run.status == "success", run.error
    assert run.output == output
    assert all(n == 1 for n in completed(run).values())
    assert Event.objects.filter(run=run).last().type == "workflow-finish"  # type: ignore[union-attr]


def test_paths_name_iterations_branches_and_nested_steps(actor: Any) -> None:
    foreach = start(actor, "t-foreach", {"values": [1, 2, 3]})
    assert set(completed(foreach)) == {"1:double[0]", "1:double[1]", "1:double[2]"}
    assert FanIn.objects.get(run=foreach).completed == 3
    nested = start(actor, "t-nested", {"value": 1})
    assert set(completed(nested)) == {"0:add-one", "1:t-child/0:add-one", "1:t-child/1:double", "2:add-one"}
    loop = start(actor, "t-dountil", {"value": 3})
    assert set(completed(loop)) == {"0:add-one[0]", "0:add-one[1]"}
    parallel = start(actor, "t-parallel", {"value": 1})
    assert set(completed(parallel)) == {"0:parallel/add-one", "0:parallel/double"}
    fan_in = FanIn.objects.get(run=parallel)
    assert (fan_in.expected, fan_in.completed) == (2, 2)


def test_sleeps_are_timer_rows(actor: Any) -> None:
    run = start(actor, "t-sleep", {"value": 1})
    timers = list(Timer.objects.filter(run=run).order_by("id"))
    assert [t.path for t in timers] == ["1:sleep", "2:sleep-until"]
    assert all(t.fired_at is not None and t.fired_at >= t.wake_at for t in timers)


def test_bad_input_is_a_400_with_field_errors(actor: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        services.run_start(actor=actor, workflow_id="t-sequence", input_data={"value": "many"})
    assert "inputData.value" in caught.value.details
    assert not WorkflowRun.objects.exists()


def test_retries_back_off_then_succeed(actor: Any) -> None:
    run = start(actor, "t-retry", {"value": 1})
    assert run.status == "success"
    assert run.output == {"value": 102}
    tries = attempts_of(run, "1:flaky")
    assert [a.status for a in tries] == ["failed", "failed", "success"]
    assert [label for _, label in effects(run.pk) if label] == ["attempt-1", "attempt-2", "attempt-3"]
    gaps = [
        (b.started_at - (a.finished_at or b.started_at)).total_seconds() for a, b in itertools.pairwise(tries)
    ]
    assert gaps[0] >= 0.15  # 0.2 s with 10 % jitter
    assert gaps[1] >= 0.3  # doubled
    assert Timer.objects.filter(run=run, kind="retry").count() == 2


def test_a_step_that_keeps_failing_fails_the_run_visibly(actor: Any) -> None:
    run = start(actor, "t-failing", {"value": 1})
    assert run.status == "failed"
    assert (run.error or {})["path"] == "1:broken"
    assert (run.error or {})["message"] == "always broken"
    assert len(attempts_of(run, "1:broken")) == 2
    assert "2:add-one" not in completed(run)
    last = Event.objects.filter(run=run).last()
    assert last is not None
    assert last.type == "workflow-failed"


def test_non_retryable_errors_and_timeouts(actor: Any) -> None:
    fatal = start(actor, "t-fatal", {"value": 1})
    assert fatal.status == "failed"
    assert len(attempts_of(fatal, "0:fatal")) == 1
    timed = start(actor, "t-timeout", {"value": 1})
    assert timed.status == "failed"
    assert (timed.error or {})["code"] == "timeout"
    assert [a.status for a in attempts_of(timed, "0:too-slow")] == ["failed", "failed"]


def test_state_and_progress_are_committed_with_the_steps(actor: Any) -> None:
    run = start(actor, "t-state", {"value": 1})
    assert run.state == {"seen": [1, 2]}
    progress = Event.objects.filter(run=run, type="workflow-step-progress")
    assert [e.data for e in progress] == [{"remembered": 1}, {"remembered": 2}]
    seqs = list(Event.objects.filter(run=run).values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_suspend_and_resume_once(actor: Any) -> None:
    run = start(actor, "t-suspend", {"value": 1})
    assert run.status == "suspended"
    suspension = Suspension.objects.get(run=run)
    assert (suspension.path, suspension.payload) == ("1:ask", {"question": "what to add to 2?"})
    with pytest.raises(ValidationFailed) as bad:
        services.run_resume(actor=actor, run=run, step="ask", resume_data={"answer": "x"})
    assert "resumeData.answer" in bad.value.details
    services.run_resume(actor=actor, run=run, step="1:ask", resume_data={"answer": 5})
    run.refresh_from_db()
    assert run.status == "success"
    assert run.output == {"value": 8}
    with pytest.raises(Conflict):  # consumed once: the run has ended
        services.run_resume(actor=actor, run=run, step="1:ask", resume_data={"answer": 5})


def test_parallel_suspensions_resume_one_at_a_time(actor: Any) -> None:
    run = start(actor, "t-parallel-suspend", {"value": 2})
    assert set(Suspension.objects.filter(run=run).values_list("path", flat=True)) == {
        "0:parallel/ask",
        "0:parallel/ask-other",
    }
    services.run_resume(actor=actor, run=run, step="0:parallel/ask", resume_data={"answer": 1})
    run.refresh_from_db()
    assert run.status == "suspended"
    other = Suspension.objects.get(run=run, path="0:parallel/ask-other")
    assert (other.status, other.payload) == ("open", {"question": "other?"})
    with pytest.raises(SuspensionConflict):
        services.run_resume(actor=actor, run=run, step="0:parallel/ask", resume_data={"answer": 1})
    services.run_resume(actor=actor, run=run, step="ask-other", resume_data={"answer": 10})
    run.refresh_from_db()
    assert run.status == "success"
    assert run.output == {"value": 3 + 20}


def test_foreach_suspensions_resume_one_at_a_time_and_resume_all(actor: Any) -> None:
    run = start(actor, "t-foreach-suspend", {"values": [10, 20, 30]})
    open_paths = sorted(Suspension.objects.filter(run=run, status="open").values_list("path", flat=True))
    assert open_paths == ["1:ask[0]", "1:ask[1]", "1:ask[2]"]
    with pytest.raises(SuspensionConflict) as ambiguous:
        services.run_resume(actor=actor, run=run, step="ask", resume_data={"answer": 1})
    assert len(ambiguous.value.details["paths"]) == 3
    services.run_resume(actor=actor, run=run, step="1:ask[1]", resume_data={"answer": 2})
    run.refresh_from_db()
    assert run.status == "suspended"
    kept = {s.path: (s.status, s.payload) for s in Suspension.objects.filter(run=run)}
    assert kept["1:ask[0]"] == ("open", {"question": "what to add to 10?"})
    assert kept["1:ask[2]"] == ("open", {"question": "what to add to 30?"})
    assert [p for p, label in effects(run.pk) if label == "resumed"] == ["1:ask[1]"]
    services.run_resume_all(actor=actor, run=run, resume_data={"answer": 5})
    run.refresh_from_db()
    assert run.status == "success"
    assert run.output == {"values": [15, 22, 35]}


def test_cancel_a_suspended_run(actor: Any) -> None:
    run = start(actor, "t-suspend", {"value": 1})
    services.run_cancel(actor=actor, run=run)
    run.refresh_from_db()
    assert run.status == "canceled"
    assert Suspension.objects.get(run=run).status == "canceled"
    assert Event.objects.filter(run=run).last().type == "workflow-canceled"  # type: ignore[union-attr]


def test_restart_from_a_step_reuses_what_came_before(actor: Any) -> None:
    run = start(actor, "t-sequence", {"value": 1})
    assert run.output == {"value": 5}
    services.run_restart(actor=actor, run=run, step="1:double")
    run.refresh_from_db()
    assert run.status == "success"
    assert run.output == {"value": 5}
    assert run.generation == 2
    paths = [p for p, _ in effects(run.pk)]
    assert paths.count("0:add-one") == 1  # carried, not run again
    assert paths.count("1:double") == 2
    with pytest.raises(ValidationFailed):
        services.run_restart(actor=actor, run=run, step="nope")


def test_a_definition_changed_under_the_same_version_fails_visibly(actor: Any) -> None:
    from tests.workflows.defs import N, add_one, double
    from workflows.definition import Workflow

    original = registry.version("t-versioned", "1")
    run = start(actor, "t-versioned", {"value": 1})
    assert run.status == "suspended"
    try:
        Workflow(id="t-versioned", input=N, output=N, version="1").then(add_one).then(double).commit()
        services.run_resume(actor=actor, run=run, step="ask", resume_data={"answer": 1})
    finally:
        assert original is not None
        registry.register(original)
    run.refresh_from_db()
    assert run.status == "failed"
    assert (run.error or {})["code"] == "definition_changed"


def test_a_claimed_run_is_not_claimed_twice(actor: Any) -> None:
    from workflows.engine import store

    run = start(actor, "t-suspend", {"value": 1})
    services.run_resume(actor=actor, run=run, step="ask", resume_data={"answer": 1})
    # A second message for a finished run claims nothing.
    assert run_advance(run.pk) == "not-claimed"
    other = start(actor, "t-suspend", {"value": 1})
    claimed = store.run_claim(run_id=other.pk, owner="a", lease_s=30)
    assert claimed is not None
    assert store.run_claim(run_id=other.pk, owner="b", lease_s=30) is None
