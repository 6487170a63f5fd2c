"""The coordinator without I/O: what a walk of the graph decides from a journal."""

from __future__ import annotations

from django.utils import timezone

from tests.workflows.defs import N, add_one, foreach_suspend, once, parallel, sequence
from workflows.definition import RetryPolicy, Workflow, WorkflowDefinitionError, step
from workflows.engine.plan import PathRecord, plan_run

NOW = timezone.now()


def test_a_sequence_runs_one_step_at_a_time_from_its_last_completed_step() -> None:
    plan = plan_run(sequence, {"value": 1}, {}, now=NOW)
    assert [e.path for e in plan.execute] == ["0:add-one"]
    journal = {"0:add-one": PathRecord(has_output=True, output={"value": 2})}
    plan = plan_run(sequence, {"value": 1}, journal, now=NOW)
    assert [(e.path, e.input) for e in plan.execute] == [("1:double", {"value": 2})]


def test_parallel_branches_start_together_and_join_when_all_are_in() -> None:
    plan = plan_run(parallel, {"value": 1}, {}, now=NOW)
    assert {e.path for e in plan.execute} == {"0:parallel/add-one", "0:parallel/double"}
    half = {"0:parallel/add-one": PathRecord(has_output=True, output={"value": 2})}
    plan = plan_run(parallel, {"value": 1}, half, now=NOW)
    assert [e.path for e in plan.execute] == ["0:parallel/double"]
    assert [(j.expected, j.completed) for j in plan.joins] == [(2, 1)]


def test_foreach_keeps_to_its_concurrency_and_suspended_items_hold_their_slots() -> None:
    flow = Workflow(id="p-foreach", input=N, output=N).map(lambda d, c: [{"value": i} for i in range(5)])
    flow.foreach(add_one, concurrency=2)
    plan = plan_run(flow, {"value": 0}, {}, now=NOW)
    assert [e.path for e in plan.execute] == ["1:add-one[0]", "1:add-one[1]"]
    journal = {"1:ask[0]": PathRecord(suspension="open"), "1:ask[1]": PathRecord(suspension="open")}
    plan = plan_run(foreach_suspend, {"values": [1, 2, 3]}, journal, now=NOW)
    assert [e.path for e in plan.execute] == ["1:ask[2]"]  # concurrency 3: the third may start
    assert sorted(plan.suspended) == ["1:ask[0]", "1:ask[1]"]


def test_failures_up_to_the_policy_then_the_run_fails() -> None:
    @step(id="p-flaky", input=N, output=N, retry=RetryPolicy(attempts=2))
    def flaky(data: N, ctx: object) -> N:
        return data

    flow = Workflow(id="p-retry", input=N, output=N).then(flaky)
    once_failed = {"0:p-flaky": PathRecord(failures=1, last_error={"code": "step_failed"})}
    assert [e.number for e in plan_run(flow, {"value": 1}, once_failed, now=NOW).execute] == [2]
    waiting = {"0:p-flaky": PathRecord(failures=1, retry_pending=True)}
    assert plan_run(flow, {"value": 1}, waiting, now=NOW).timers_pending
    twice = {"0:p-flaky": PathRecord(failures=2, last_error={"code": "step_failed", "message": "no"})}
    failure = plan_run(flow, {"value": 1}, twice, now=NOW).failure
    assert failure is not None
    assert (failure.path, failure.error["message"]) == ("0:p-flaky", "no")


def test_an_at_most_once_step_cut_off_is_not_run_again() -> None:
    flow = Workflow(id="p-once", input=N, output=N).then(once)
    plan = plan_run(flow, {"value": 1}, {"0:once": PathRecord(failures=1, abandoned=True)}, now=NOW)
    assert plan.failure is not None
    assert plan.failure.error["code"] == "at_most_once"
    assert not plan.execute


def test_the_graph_hash_pins_a_definition() -> None:
    first = Workflow(id="p-hash", input=N, output=N).then(add_one)
    same = Workflow(id="p-hash", input=N, output=N).then(add_one)
    other = Workflow(id="p-hash", input=N, output=N).then(add_one).then(add_one)
    assert first.graph_hash == same.graph_hash != other.graph_hash


def test_definition_mistakes_fail_at_import() -> None:
    import pytest

    with pytest.raises(WorkflowDefinitionError):
        Workflow(id="bad id!", input=N, output=N)
    with pytest.raises(WorkflowDefinitionError):
        Workflow(id="p-dup", input=N, output=N).parallel([add_one, add_one])
    with pytest.raises(WorkflowDefinitionError):
        step(id="p-zero", input=N, output=N, retry=RetryPolicy(attempts=0))
    with pytest.raises(WorkflowDefinitionError):
        sequence.then(add_one)  # committed: a change needs a new version
