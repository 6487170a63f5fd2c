"""The agents' run page and the trace page show the run's scores (experiment and live) and a
one-click "new eval case" from that run; the dataset admin starts an experiment on a version."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.runtime import generate
from core.access import Actor
from core.context import RequestContext
from core.tenancy import tenant_for_user
from evals.models import Experiment
from evals.services import experiments
from evals.services.live import live_scores_sweep, live_scoring_set
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


def test_a_runs_page_and_its_traces_page_show_its_experiment_scores_and_the_new_case_link(
    admin_client, actor, eval_agent, dataset, openai_server
):
    openai_server.respond_with(lambda body: ChatReply(text="Paris"))
    experiment = experiments.experiment_start(
        actor=actor,
        dataset_id=dataset.pk,
        agent_id="evalbot",
        scorers=[{"scorer": "exact"}],
        enqueue=lambda _id: None,
    )
    experiments.experiment_drain(experiment_id=experiment.pk)
    result = experiment.results.get(case_name="capital")
    other = experiment.results.get(case_name="time")
    for url in (
        reverse("admin:agents_run_change", args=[result.run_id]),
        reverse("admin:observability_trace_change", args=[result.trace_id]),
    ):
        page = admin_client.get(url).content.decode()
        assert f"experiment {experiment.pk}, capital#0" in page
        assert reverse("admin:evals_caseresult_change", args=[result.pk]) in page
        assert "1.000 passed" in page
        assert "The answer equals the expected output." in page
        assert f"{reverse('admin:evals_case_add')}?from_run={result.run_id}" in page
        # Only this run's scores.
        assert reverse("admin:evals_caseresult_change", args=[other.pk]) not in page


def test_a_live_score_is_on_its_runs_page(admin_client, admin_user, eval_agent, openai_server):
    openai_server.respond_with(lambda body: ChatReply(text="Nothing sent."))
    tenant = tenant_for_user(admin_user)
    live_scoring_set(
        actor=Actor.system(tenant_id=tenant.pk),
        agent_id="evalbot",
        sample_rate=1.0,
        scorers=[{"scorer": "no_side_effect"}],
    )
    run = generate("evalbot", context=RequestContext(tenant_id=tenant.pk, user_id=admin_user.pk), prompt="Hi")
    assert live_scores_sweep() == 1
    page = admin_client.get(reverse("admin:agents_run_change", args=[run.run_id])).content.decode()
    assert "live scoring" in page
    assert "no_side_effect" in page
    assert "1.000 passed" in page


def test_a_run_without_scores_says_so_and_still_offers_the_new_case(
    admin_client, admin_user, eval_agent, openai_server
):
    openai_server.respond_with(lambda body: ChatReply(text="Hello"))
    tenant = tenant_for_user(admin_user)
    run = generate("evalbot", context=RequestContext(tenant_id=tenant.pk, user_id=admin_user.pk), prompt="Hi")
    page = admin_client.get(reverse("admin:observability_trace_change", args=[run.trace_id])).content.decode()
    assert "No scores for this run." in page
    draft = admin_client.get(f"{reverse('admin:evals_case_add')}?from_run={run.run_id}").content.decode()
    assert "&quot;content&quot;: &quot;Hi&quot;" in draft
    assert "Hello" in draft


def test_the_dataset_admin_starts_an_experiment_on_a_chosen_version(
    admin_client, actor, eval_agent, dataset, openai_server, django_capture_on_commit_callbacks
):
    url = reverse("admin:evals_dataset_changelist")
    form = admin_client.post(url, {"action": "start_experiment", "_selected_action": [dataset.pk]})
    assert form.status_code == 200
    assert "Start the experiment" in form.content.decode()
    bad = admin_client.post(
        url,
        {"action": "start_experiment", "_selected_action": [dataset.pk], "apply": "1", "agent": "evalbot",
         "agent_version": "9", "scorers": "[]", "repeats": "1", "concurrency": "2", "exclude_tags": ""},
    )  # fmt: skip
    assert "has no version 9" in bad.content.decode()
    assert not Experiment.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        started = admin_client.post(
            url,
            {"action": "start_experiment", "_selected_action": [dataset.pk], "apply": "1", "agent": "evalbot",
             "agent_version": "1", "scorers": '[{"scorer": "exact"}]', "repeats": "2", "concurrency": "2",
             "exclude_tags": "geo"},
        )  # fmt: skip
    experiment = Experiment.objects.get()
    assert started.status_code == 302
    assert started["Location"] == reverse("admin:evals_experiment_change", args=[experiment.pk])
    assert (experiment.agent_version, experiment.repeats, experiment.scorers) == (1, 2, [{"scorer": "exact"}])
    assert sorted(experiment.results.values_list("case_name", flat=True)) == ["time", "time"]
    assert len(queued) == 1  # the workers' first claims, queued after commit
