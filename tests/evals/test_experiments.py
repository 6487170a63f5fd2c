"""Experiments through the real runtime on the scripted model, run in this process."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.models import Run
from agents.services import agent_save
from core.errors import NotFound, ValidationFailed
from evals import selectors
from evals.models import CaseResult, Experiment, Score
from evals.services import experiments as services
from evals.services.claims import MAX_ATTEMPTS
from evals.services.datasets import dataset_import
from tests.fakes.openai_server import ChatReply, Fault, ToolCall

pytestmark = pytest.mark.django_db

CASES = [
    {
        "name": "capital",
        "input": "Capital of France?",
        "expected_output": "Paris",
        "assertions": [{"scorer": "contains"}],
    },
    {
        "name": "time",
        "input": "What time is it in Tokyo?",
        "request_context": {"locale": "ja"},
        "expected_tool_calls": [{"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}],
    },
    {"name": "boom", "input": "boom", "tags": ["flaky"]},
]


def responder(capital: str = "Paris"):
    def respond(body: dict[str, Any]) -> Any:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return ChatReply(text="It is " + json.loads(last["content"])["iso"][11:16] + " in Tokyo.")
        text = last["content"]
        if "boom" in text:
            return Fault(status=400, message="the provider refused")
        if "Tokyo" in text:
            return ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": "Asia/Tokyo"})])
        return ChatReply(text=f"The capital is {capital}.", prompt_tokens=7, completion_tokens=5)

    return respond


@pytest.fixture
def agent(eval_agent):
    return agent_save(
        slug="evalbot",
        name="Eval bot",
        instructions="You answer questions.",
        model="scripted/gpt-test",
        max_steps=3,
        tools=["current_time", "eval_send_email"],
        request_context_schema={"type": "object", "properties": {"locale": {"type": "string"}}},
    )


@pytest.fixture
def suite(actor):
    return dataset_import(actor=actor, data={"name": "suite", "cases": CASES})


def start(actor, dataset, **kwargs) -> Experiment:
    kwargs.setdefault("scorers", [{"scorer": "tool_calls"}])
    return services.experiment_start(
        actor=actor, dataset_id=dataset.pk, agent_id="evalbot", enqueue=lambda _id: None, **kwargs
    )


def by_case(experiment: Experiment) -> dict[str, CaseResult]:
    return {f"{r.case_name}#{r.repeat}": r for r in experiment.results.all()}


def test_each_case_runs_through_the_runtime_and_is_scored(actor, agent, suite, openai_server):
    openai_server.respond_with(responder())
    experiment = start(actor, suite, repeats=2)
    assert (experiment.dataset_version, experiment.agent_version) == (1, agent.version)
    services.experiment_drain(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED
    results = by_case(experiment)
    assert sorted(results) == ["boom#0", "boom#1", "capital#0", "capital#1", "time#0", "time#1"]
    capital = results["capital#0"]
    assert capital.status == CaseResult.Status.PASSED
    assert capital.output["text"] == "The capital is Paris."
    assert capital.output["usage"] == {"promptTokens": 7, "completionTokens": 5}
    run = Run.objects.get(pk=str(capital.run_id))
    assert (run.trace_id, run.agent.slug, run.user_id) == (capital.trace_id, "evalbot", actor.user_id)
    scores = {s.scorer: s for s in capital.scores.all()}
    assert set(scores) == {"tool_calls", "contains"}
    assert scores["contains"].reason == "The answer contains 'paris'."
    time = results["time#1"]
    assert time.status == CaseResult.Status.PASSED
    assert time.output["toolCalls"][0]["arguments"] == {"timezone": "Asia/Tokyo"}
    assert Run.objects.get(pk=str(time.run_id)).input["requestContext"] == {"locale": "ja"}
    assert time.scores.get().value == 1.0


def test_a_bad_answer_fails_a_run_failure_errors_and_the_experiment_goes_on(
    actor, agent, suite, openai_server
):
    openai_server.respond_with(responder(capital="Lyon"))
    experiment = start(actor, suite)
    services.experiment_drain(experiment_id=experiment.pk)
    results = by_case(experiment)
    failed = results["capital#0"]
    assert failed.status == CaseResult.Status.FAILED
    contains = failed.scores.get(scorer="contains")
    assert (contains.value, contains.passed, contains.reason) == (
        0.0,
        False,
        "The answer does not contain 'paris'.",
    )
    errored = results["boom#0"]
    assert errored.status == CaseResult.Status.ERRORED
    assert errored.error["code"] == "provider_unavailable"
    assert "the provider refused" in errored.error["message"]
    assert errored.scores.count() == 0
    assert results["time#0"].status == CaseResult.Status.PASSED
    summary = selectors.experiment_summary(experiment=experiment)
    assert summary.counts["passed"] == 1
    assert summary.counts["failed"] == 1
    assert summary.counts["errored"] == 1
    assert summary.progress == 1.0
    by_scorer = {s.scorer: s for s in summary.scorers}
    assert (by_scorer["contains"].mean, by_scorer["contains"].pass_rate) == (0.0, 0.0)
    assert by_scorer["tool_calls"].count == 2


def test_a_judge_failure_errors_the_case_instead_of_scoring_zero(
    actor, agent, suite, openai_server, settings
):
    settings.EVALS_JUDGE_MODEL = "scripted/judge"
    settings.MODEL_MAX_RETRIES = 0

    def respond(body: dict[str, Any]) -> Any:
        if body["model"] == "judge":
            return ChatReply(text="no verdict here")
        return responder()(body)

    openai_server.respond_with(respond)
    experiment = start(actor, suite, scorers=[{"scorer": "answer_relevancy"}], exclude_tags=["flaky"])
    services.experiment_drain(experiment_id=experiment.pk)
    result = by_case(experiment)["capital#0"]
    assert result.status == CaseResult.Status.ERRORED
    score = result.scores.get(scorer="answer_relevancy")
    assert (score.value, score.errored, score.reason) == (None, True, "The judge did not answer JSON.")
    assert selectors.experiment_summary(experiment=experiment).scorers[0].error_count == 2


def test_repeats_are_stored_apart_for_variance(actor, agent, suite, openai_server):
    answers = iter(["Paris", "Lyon", "Paris"])
    openai_server.respond_with(lambda body: ChatReply(text=f"The capital is {next(answers)}."))
    experiment = start(actor, suite, repeats=3, scorers=[], exclude_tags=["flaky"])
    experiment.results.exclude(case_name="capital").delete()
    services.experiment_drain(experiment_id=experiment.pk)
    summary = selectors.experiment_summary(experiment=experiment)
    contains = summary.scorers[0]
    assert (contains.count, contains.mean, contains.stdev) == (3, 0.6667, 0.4714)


def test_the_concurrency_limit_holds_claims(actor, agent, suite):
    experiment = start(actor, suite, concurrency=2)
    first = services.result_claim(experiment_id=experiment.pk)
    second = services.result_claim(experiment_id=experiment.pk)
    assert first is not None
    assert second is not None
    assert first.result_id != second.result_id
    assert services.result_claim(experiment_id=experiment.pk) is None


def test_a_stale_claim_is_taken_over_and_the_late_finisher_writes_nothing(
    actor, agent, suite, openai_server, settings
):
    openai_server.respond_with(responder())
    experiment = start(actor, suite, concurrency=1, exclude_tags=["flaky"])
    dead = services.result_claim(experiment_id=experiment.pk)
    assert dead is not None
    assert services.result_claim(experiment_id=experiment.pk) is None  # the one slot is held
    CaseResult.objects.filter(pk=dead.result_id).update(claimed_at=datetime.now(UTC) - timedelta(hours=1))
    assert services.experiments_sweep(enqueue=lambda _id: None) == 1
    again = services.result_claim(experiment_id=experiment.pk)
    assert again is not None
    assert again.result_id == dead.result_id
    assert again.claim != dead.claim
    outcome = services.case_execute(dead)
    assert services.result_finish(claim=dead, outcome=outcome, enqueue=lambda _id: None) is False
    assert services.result_finish(claim=again, outcome=services.case_execute(again), enqueue=lambda _id: None)
    services.experiment_drain(experiment_id=experiment.pk)
    row = CaseResult.objects.get(pk=dead.result_id)
    assert (row.status, row.attempts) == (CaseResult.Status.PASSED, 2)
    assert Score.objects.filter(result=row).count() == 2
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED


def test_cancel_stops_claiming_and_keeps_what_ran(actor, agent, suite, openai_server):
    openai_server.respond_with(responder())
    experiment = start(actor, suite, concurrency=1)
    assert services.experiment_step(experiment_id=experiment.pk, enqueue=lambda _id: None)
    services.experiment_cancel(actor=actor, experiment_id=experiment.pk)
    assert not services.experiment_step(experiment_id=experiment.pk, enqueue=lambda _id: None)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CANCELLED
    statuses = sorted(experiment.results.values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled", "passed"]


def test_bad_starts_are_refused_with_field_errors(actor, agent, suite):
    with pytest.raises(ValidationFailed) as caught:
        start(actor, suite, scorers=[{"scorer": "regex"}])
    assert "scorers.0" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:
        start(actor, suite, repeats=0)
    assert "repeats" in caught.value.details
    with pytest.raises(NotFound):
        services.experiment_start(actor=actor, dataset_id=suite.pk, agent_id="ghost", scorers=[])
    assert not Experiment.objects.exists()


def test_another_owner_cannot_start_read_or_cancel(actor, agent, suite, other_member, other_tenant_actor):
    experiment = start(actor, suite)
    for stranger in (other_member, other_tenant_actor):
        with pytest.raises(NotFound):
            start(stranger, suite)
        with pytest.raises(NotFound):
            selectors.experiment_get(actor=stranger, experiment_id=experiment.pk)
        with pytest.raises(NotFound):
            services.experiment_cancel(actor=stranger, experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING


def test_a_cases_assertion_replaces_the_experiment_scorer_of_the_same_name(
    actor, agent, suite, openai_server
):
    openai_server.respond_with(responder())
    experiment = start(
        actor, suite, scorers=[{"scorer": "contains", "text": "never said"}], exclude_tags=["flaky"]
    )
    services.experiment_drain(experiment_id=experiment.pk)
    capital = by_case(experiment)["capital#0"]
    assert [(s.scorer, s.passed) for s in capital.scores.all()] == [("contains", True)]
    assert by_case(experiment)["time#0"].scores.get().passed is False  # the experiment's entry
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED


def test_a_scorer_that_crashes_errors_its_score_and_the_experiment_goes_on(
    actor, agent, suite, openai_server
):
    from evals.scorers import Score as Verdict
    from evals.scorers import registry, scorer

    @scorer("test_crash")
    def crash(case: Any, outcome: Any, options: Any) -> Verdict:
        raise ZeroDivisionError("division by zero")

    openai_server.respond_with(responder())
    try:
        experiment = start(actor, suite, scorers=[{"scorer": "test_crash"}], exclude_tags=["flaky"])
        services.experiment_drain(experiment_id=experiment.pk)
    finally:
        registry.unregister("test_crash")
    results = by_case(experiment)
    assert {r.status for r in results.values()} == {CaseResult.Status.ERRORED}
    score = results["time#0"].scores.get()
    assert (score.errored, score.value, score.reason) == (True, None, "ZeroDivisionError: division by zero")
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED


def test_a_case_whose_claims_keep_dying_is_errored_after_three_attempts(actor, agent, suite, openai_server):
    openai_server.respond_with(responder())
    experiment = start(actor, suite, concurrency=1, exclude_tags=["flaky"])
    first = services.result_claim(experiment_id=experiment.pk)
    assert first is not None
    CaseResult.objects.filter(pk=first.result_id).update(
        attempts=MAX_ATTEMPTS, claimed_at=datetime.now(UTC) - timedelta(hours=1)
    )
    services.experiment_drain(experiment_id=experiment.pk)
    dead = CaseResult.objects.get(pk=first.result_id)
    assert (dead.status, dead.error["code"]) == (CaseResult.Status.ERRORED, "attempts_exhausted")
    assert dead.run_id is None
    others = experiment.results.exclude(pk=dead.pk)
    assert {r.status for r in others} == {CaseResult.Status.PASSED}
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED


def test_a_worker_stores_each_result_and_claims_the_next_in_three_statements(
    actor, agent, actor_dataset_of_ten, openai_server
):
    """The eval machinery's own statements per case (the runtime's run records aside): the result,
    its scores, and the next claim, in one transaction; no task message per case."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    openai_server.respond_with(lambda body: ChatReply(text="The capital is Paris."))
    queued: list[int] = []
    experiment = services.experiment_start(
        actor=actor,
        dataset_id=actor_dataset_of_ten.pk,
        agent_id="evalbot",
        scorers=[{"scorer": "contains", "text": "Paris"}, {"scorer": "regex", "pattern": "capital"}],
        concurrency=1,
        enqueue=queued.append,
    )
    with CaptureQueriesContext(connection) as captured:
        stored = services.experiment_work(experiment_id=experiment.pk, enqueue=queued.append)
    assert stored == 10
    assert queued == []  # one task carried all ten cases (experiment_start's own is not run here)
    evals_sql = [q["sql"] for q in captured.captured_queries if '"evals_' in q["sql"] or "evals_" in q["sql"]]
    # first claim: lock, live count, claim (3); per case: result, scores, next claim (3); the end: lock, open rows, complete (3)
    assert len(evals_sql) <= 3 * 10 + 6, "\n".join(evals_sql)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED
    assert Score.objects.filter(result__experiment=experiment, passed=True).count() == 20


def test_a_worker_hands_the_experiment_on_after_its_slice(actor, agent, actor_dataset_of_ten, openai_server):
    openai_server.respond_with(lambda body: ChatReply(text="The capital is Paris."))
    queued: list[int] = []
    experiment = services.experiment_start(
        actor=actor,
        dataset_id=actor_dataset_of_ten.pk,
        agent_id="evalbot",
        scorers=[],
        concurrency=1,
        enqueue=queued.append,
    )
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.experiment_work(experiment_id=experiment.pk, enqueue=queued.append, slice_s=0) == 1
    assert queued == [experiment.pk]  # the rest goes on in one new task
    assert experiment.results.filter(status=CaseResult.Status.PENDING).count() == 9
    assert not experiment.results.filter(status=CaseResult.Status.RUNNING).exists()


def test_cancel_reaches_a_worker_between_two_cases(actor, agent, actor_dataset_of_ten, openai_server):
    from evals.scorers import Score as Verdict
    from evals.scorers import registry, scorer

    experiment = services.experiment_start(
        actor=actor,
        dataset_id=actor_dataset_of_ten.pk,
        agent_id="evalbot",
        scorers=[],
        concurrency=1,
        enqueue=lambda _id: None,
    )

    @scorer("test_cancel_at_q2")
    def cancel_at_q2(case: Any, outcome: Any, options: Any) -> Verdict:
        if case.name == "q2":  # an operator cancels while the third case is being scored
            services.experiment_cancel(actor=actor, experiment_id=experiment.pk)
        return Verdict(value=1.0, passed=True)

    openai_server.respond_with(lambda body: ChatReply(text="ok"))
    Experiment.objects.filter(pk=experiment.pk).update(scorers=[{"scorer": "test_cancel_at_q2"}])
    try:
        assert services.experiment_work(experiment_id=experiment.pk) == 3  # the running case is kept
    finally:
        registry.unregister("test_cancel_at_q2")
    statuses = list(experiment.results.order_by("id").values_list("status", flat=True))
    assert statuses == ["passed"] * 3 + ["cancelled"] * 7
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.CANCELLED


@pytest.fixture
def actor_dataset_of_ten(actor):
    cases = [{"name": f"q{i}", "input": f"question {i}"} for i in range(10)]
    return dataset_import(actor=actor, data={"name": "ten", "cases": cases})
