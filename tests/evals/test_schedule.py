"""Scheduled experiments: a django-celery-beat periodic task (editable in the admin) that beat
loads from the database and sends, starting an experiment that runs to the end."""

from __future__ import annotations

import json

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from config.celery import app as celery_app
from core.errors import NotFound
from evals import tasks  # noqa: F401  (registers the tasks)
from evals.models import Experiment
from evals.services.datasets import dataset_import
from tests.evals.conftest import CASES
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


def test_a_periodic_task_from_the_admin_starts_an_experiment(
    tenant, actor, eval_agent, openai_server, django_capture_on_commit_callbacks
):
    openai_server.respond_with(lambda body: ChatReply(text="Paris"))
    dataset_import(actor=actor, data={"name": "nightly", "cases": CASES})
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    task = PeriodicTask.objects.create(
        name="nightly evals",
        task="evals.experiment_scheduled",
        interval=every_hour,
        kwargs=json.dumps(
            {
                "tenant": tenant.slug,
                "dataset": "nightly",
                "agent": "evalbot",
                "scorers": [{"scorer": "exact"}],
            }
        ),
    )
    entry = ModelEntry(task, app=celery_app)  # what beat's DatabaseScheduler builds from the row
    assert entry.task == "evals.experiment_scheduled"
    with django_capture_on_commit_callbacks(execute=True):
        experiment_id = celery_app.tasks[entry.task](*entry.args, **entry.kwargs)
    experiment = Experiment.objects.get(pk=experiment_id)
    assert (experiment.status, experiment.owner_id, experiment.tenant_id) == ("completed", None, tenant.pk)
    assert sorted(experiment.results.values_list("case_name", "status")) == [
        ("capital", "passed"),
        ("time", "failed"),
    ]


def test_a_schedule_naming_a_missing_dataset_fails_clearly(tenant, eval_agent):
    with pytest.raises(NotFound, match="Dataset 'ghost' not found"):
        celery_app.tasks["evals.experiment_scheduled"](tenant=tenant.slug, dataset="ghost", agent="evalbot")
    assert not Experiment.objects.exists()
