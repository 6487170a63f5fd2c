"""Bounds and retention: step output and input caps, retention of finished runs, deletion
with the user, the sweep handing on a run whose message was lost, the stream's heartbeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from core.errors import PayloadTooLarge
from workflows import services, sweeps
from workflows.api.stream import event_body
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_output_over_the_cap_fails_the_step(actor: Any) -> None:
    run = services.run_start(actor=actor, workflow_id="t-big", input_data={"text": "x"})
    run.refresh_from_db()
    assert run.status == "failed"
    assert (run.error or {})["code"] == "output_too_large"


def test_an_input_over_the_cap_is_refused(actor: Any, settings: Any) -> None:
    settings.WORKFLOW_MAX_STEP_BYTES = 100
    with pytest.raises(PayloadTooLarge):
        services.run_start(actor=actor, workflow_id="t-hold", input_data={"text": "y" * 200})
    assert not WorkflowRun.objects.exists()


def test_retention_deletes_old_finished_runs_only(actor: Any, settings: Any) -> None:
    settings.WORKFLOW_RETENTION_DAYS = 30
    old = services.run_start(actor=actor, workflow_id="t-sequence", input_data={"value": 1})
    recent = services.run_start(actor=actor, workflow_id="t-sequence", input_data={"value": 1})
    waiting = services.run_start(actor=actor, workflow_id="t-suspend", input_data={"value": 1})
    WorkflowRun.objects.filter(pk__in=[old.pk, waiting.pk]).update(
        finished_at=timezone.now() - timedelta(days=31)
    )
    sweeps.runs_sweep(retention=True)
    assert set(WorkflowRun.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


def test_runs_are_deleted_with_their_owner(actor: Any, user: Any) -> None:
    run = services.run_start(actor=actor, workflow_id="t-sequence", input_data={"value": 1})
    assert run.attempts.exists()
    user.delete()
    assert not WorkflowRun.objects.filter(pk=run.pk).exists()


def test_the_sweep_hands_on_a_run_whose_message_was_lost(actor: Any, settings: Any) -> None:
    from config.celery import app

    app.conf.task_always_eager = False  # the message goes nowhere: no worker is listening
    settings.CELERY_BROKER_URL = "memory://"
    try:
        run = services.run_start(actor=actor, workflow_id="t-sequence", input_data={"value": 1})
    finally:
        app.conf.task_always_eager = True
    WorkflowRun.objects.filter(pk=run.pk).update(updated_at=timezone.now() - timedelta(seconds=60))
    assert sweeps.runs_sweep() == 1
    run.refresh_from_db()
    assert (run.status, run.output) == ("success", {"value": 5})


async def test_a_quiet_stream_sends_heartbeats(actor: Any, settings: Any) -> None:
    from asgiref.sync import sync_to_async

    settings.WORKFLOW_SSE_HEARTBEAT_S = 0.2
    run = await sync_to_async(services.run_create)(actor=actor, workflow_id="t-sequence")
    await WorkflowRun.objects.filter(pk=run.pk).aupdate(status="running")
    body = event_body(run.pk, 0)
    chunks = [await body.__anext__(), await body.__anext__()]
    assert chunks == [b": heartbeat\n\n", b": heartbeat\n\n"]
    await body.aclose()
