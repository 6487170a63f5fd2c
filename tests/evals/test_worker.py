"""Experiments on real Celery worker processes: executed case by case, and a SIGKILLed
worker's case picked up again by another worker and counted once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings

from agents.models import Run
from agents.services import agent_save, tools_sync
from config.celery import app as celery_app
from evals.models import CaseResult, Experiment, Score
from evals.services.datasets import dataset_import
from evals.services.experiments import experiment_start, experiments_sweep
from tests.evals.worker import WorkerProcess, wait_until
from tests.fakes.openai_server import ChatReply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LEASE_S = 2.0


@pytest.fixture
def broker(settings: Any) -> Iterator[None]:
    """Tasks leave this process for this run's Redis database (emptied first)."""
    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()
    settings.EVALS_CASE_LEASE_S = LEASE_S
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def workers(django_db_blocker: Any, openai_server: Any, broker: None) -> Iterator[Any]:
    from django.db import connection

    started: list[WorkerProcess] = []

    def start(concurrency: int = 1) -> WorkerProcess:
        worker = WorkerProcess(
            db_name=connection.settings_dict["NAME"],
            scripted_base_url=openai_server.base_url,
            lease_s=LEASE_S,
            concurrency=concurrency,
        ).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def agent(openai_server: Any) -> Any:
    tools_sync()
    return agent_save(
        slug="evalworker", name="Eval worker", instructions="Answer.", model="scripted/gpt-test", tools=[]
    )


def dataset_of(actor: Any, names: list[str]) -> Any:
    cases = [
        {"name": n, "input": f"case {n}", "expected_output": n, "assertions": [{"scorer": "contains"}]}
        for n in names
    ]
    return dataset_import(actor=actor, data={"name": "worker-suite", "cases": cases})


def echo(body: dict[str, Any]) -> ChatReply:
    return ChatReply(text="Answer for " + body["messages"][-1]["content"])


def finished(experiment: Experiment) -> bool:
    experiment.refresh_from_db()
    return experiment.status == Experiment.Status.COMPLETED


def test_a_worker_runs_every_case_and_repeat(actor, agent, workers, openai_server):
    openai_server.respond_with(echo)
    dataset = dataset_of(actor, ["a", "b", "c"])
    worker = workers(concurrency=2)
    experiment = experiment_start(
        actor=actor, dataset_id=dataset.pk, agent_id="evalworker", scorers=[], repeats=2, concurrency=2
    )
    wait_until(lambda: finished(experiment), what="the experiment to finish\n" + worker.output())
    results = list(experiment.results.all())
    assert len(results) == 6
    assert {r.status for r in results} == {CaseResult.Status.PASSED}
    assert {r.attempts for r in results} == {1}
    runs = Run.objects.filter(pk__in=[r.run_id for r in results])
    assert runs.count() == 6
    assert Score.objects.filter(result__experiment=experiment).count() == 6
    assert "evals.experiment_step" in worker.output()


def test_a_killed_workers_case_is_picked_up_again_and_counted_once(actor, agent, workers, openai_server):
    calls: dict[str, int] = {}

    def respond(body: dict[str, Any]) -> ChatReply:
        prompt = body["messages"][-1]["content"]
        calls[prompt] = calls.get(prompt, 0) + 1
        if prompt == "case slow" and calls[prompt] == 1:
            return ChatReply(text="too late", delay_s=60)  # the worker dies while waiting for this
        return echo(body)

    openai_server.respond_with(respond)
    dataset = dataset_of(actor, ["slow", "b", "c"])
    first = workers()
    experiment = experiment_start(
        actor=actor, dataset_id=dataset.pk, agent_id="evalworker", scorers=[], concurrency=1
    )
    slow = experiment.results.get(case_name="slow")
    wait_until(lambda: calls.get("case slow") == 1, what="the first worker to call the model")
    slow.refresh_from_db()
    assert slow.status == CaseResult.Status.RUNNING
    first.kill()

    workers()
    # The dead worker's message is never acknowledged; the beat sweep finds its stale claim.
    wait_until(lambda: experiments_sweep() > 0, timeout_s=30, what="the stale claim to be swept")
    wait_until(lambda: finished(experiment), what="the experiment to finish")

    slow.refresh_from_db()
    assert (slow.status, slow.attempts) == (CaseResult.Status.PASSED, 2)
    assert slow.output["text"] == "Answer for case slow"
    assert calls == {"case slow": 2, "case b": 1, "case c": 1}
    results = experiment.results.all()
    assert results.count() == 3
    assert {r.status for r in results} == {CaseResult.Status.PASSED}
    assert Score.objects.filter(result__experiment=experiment).count() == 3
    completed = Run.objects.filter(agent__slug="evalworker", status=Run.Status.COMPLETED)
    assert set(completed.values_list("id", flat=True)) == {r.run_id for r in results}
    # The killed attempt's run row (written when the run started) is not any result's run.
    assert (
        not Run.objects.filter(agent__slug="evalworker")
        .exclude(status=Run.Status.COMPLETED)
        .filter(id__in=[r.run_id for r in results])
        .exists()
    )


def test_a_worker_runs_a_dataset_against_a_workflow(actor, workers, openai_server):
    from tests.evals.test_workflow_target import CASES
    from workflows.models import WorkflowRun

    agent_save(slug="evaltriage", name="Triage", instructions="Draft.", model="scripted/gpt-test", tools=[])
    openai_server.respond_with(lambda body: ChatReply(text="Drafted: noted."))
    dataset = dataset_import(actor=actor, data={"name": "tickets-worker", "cases": CASES})
    worker = workers()
    experiment = experiment_start(
        actor=actor, dataset_id=dataset.pk, workflow_id="eval-triage", scorers=[{"scorer": "no_side_effect"}]
    )
    wait_until(lambda: finished(experiment), what="the experiment to finish\n" + worker.output())
    results = {r.case_name: r for r in experiment.results.all()}
    runs = WorkflowRun.objects.filter(pk__in=[r.workflow_run_id for r in results.values()])
    assert set(runs.values_list("status", flat=True)) == {"success"}
    assert results["routine"].status == CaseResult.Status.PASSED
    assert results["routine"].output["object"] == {"reply": "Drafted: noted.", "escalated": False}
    assert results["urgent"].status == CaseResult.Status.FAILED  # it sent the e-mail
    assert [s.scorer for s in results["urgent"].scores.filter(passed=False)] == ["no_side_effect"]
