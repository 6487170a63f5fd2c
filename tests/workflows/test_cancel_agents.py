"""Cancelling a workflow run whose agent step waits on a model call stops that agent run: the
step stops waiting, its result is discarded, and the agent run ends `cancelled`."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Run
from tests.fakes.openai_server import ChatReply
from tests.workflows.conftest import completed
from tests.workflows.worker import wait_until
from workflows import services
from workflows.models import StepAttempt, WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_cancel_stops_an_agent_run_in_a_model_call(
    actor: Any, workers: Any, sweeper: Any, openai_server: Any
) -> None:
    from agents.services import agent_save

    agent_save(slug="t-slow", name="Slow", instructions="Thinks slowly.", model="scripted/gpt-test")
    openai_server.script(ChatReply(text="far too late", delay_s=60))
    workers()
    run = services.run_start(actor=actor, workflow_id="t-agent-cancel", input_data={"value": 1})
    key = f"{run.pk}:0:ask-agent"
    wait_until(
        lambda: Run.objects.filter(idempotency_key=key, status="running").exists(), 60, "the agent run"
    )
    wait_until(lambda: len(openai_server.chat_requests) == 1, 30, "the model call to begin")
    services.run_cancel(actor=actor, run=run)
    # The model answers after 60 s: a step that kept waiting for it would not end the run here.
    wait_until(lambda: WorkflowRun.objects.get(pk=run.pk).status == "canceled", 30, "the run to be canceled")
    agent_run = Run.objects.get(idempotency_key=key)
    wait_until(lambda: Run.objects.get(pk=agent_run.pk).status == "cancelled", 10, "the agent run cancelled")
    agent_run.refresh_from_db()
    assert agent_run.error["code"] == "run_cancelled"
    assert completed(WorkflowRun.objects.get(pk=run.pk)) == {}
    attempt = StepAttempt.objects.filter(run=run, path="0:ask-agent").latest("id")
    assert attempt.status != "success"


def test_a_worker_killed_in_an_agent_step_leaves_a_step_the_next_worker_finishes(
    actor: Any, workers: Any, sweeper: Any, openai_server: Any
) -> None:
    from agents.services import agent_save

    agent_save(slug="t-slow", name="Slow", instructions="Thinks slowly.", model="scripted/gpt-test")
    openai_server.script(ChatReply(text="never heard", delay_s=60), ChatReply(text="the answer"))
    first = workers()
    run = services.run_start(actor=actor, workflow_id="t-agent-cancel", input_data={"value": 1})
    wait_until(lambda: len(openai_server.chat_requests) == 1, 60, "the model call to begin")
    first.kill()
    workers()
    wait_until(
        lambda: WorkflowRun.objects.get(pk=run.pk).status in ("success", "failed"), 60, "the run to end"
    )
    done = WorkflowRun.objects.get(pk=run.pk)
    assert done.status == "success", done.error
    assert (done.output or {})["text"] == "the answer"
    assert completed(done) == {"0:ask-agent": 1}
    key = f"{run.pk}:0:ask-agent"
    statuses = dict(
        Run.objects.filter(idempotency_key__startswith=key).values_list("idempotency_key", "status")
    )
    assert statuses == {key: "interrupted", f"{key}~2": "completed"}
