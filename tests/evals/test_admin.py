"""The evals admin: cases are validated and versioned through the services; pages render."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from evals.models import Case
from evals.services import experiments

pytestmark = pytest.mark.django_db


def _case_form(dataset, **fields):
    data = {
        "dataset": dataset.pk,
        "name": "added",
        "input_messages": json.dumps([{"role": "user", "content": "hi"}]),
        "request_context": "{}",
        "expected_output": "",
        "expected_tools": "[]",
        "forbidden_tools": "[]",
        "expected_tool_calls": "[]",
        "reference_context": "[]",
        "assertions": "[]",
        "tags": "[]",
    }
    return {**data, **fields}


def test_a_case_added_in_the_admin_is_validated_and_bumps_the_version(admin_client, dataset):
    url = reverse("admin:evals_case_add")
    response = admin_client.post(url, _case_form(dataset, forbidden_tools='["ghost"]'))
    assert response.status_code == 200
    assert "Unknown tool(s): &#x27;ghost&#x27;" in response.content.decode()
    assert not Case.objects.filter(name="added").exists()
    response = admin_client.post(url, _case_form(dataset))
    assert response.status_code == 302
    dataset.refresh_from_db()
    assert (dataset.version, dataset.cases.count()) == (2, 3)


def test_experiment_and_result_pages_show_the_summary_and_links(
    admin_client, actor, eval_agent, dataset, openai_server
):
    from tests.fakes.openai_server import ChatReply

    openai_server.respond_with(lambda body: ChatReply(text="Paris"))
    experiment = experiments.experiment_start(
        actor=actor,
        dataset_id=dataset.pk,
        agent_id="evalbot",
        scorers=[{"scorer": "exact"}],
        enqueue=lambda _id: None,
    )
    experiments.experiment_drain(experiment_id=experiment.pk)
    page = admin_client.get(reverse("admin:evals_experiment_change", args=[experiment.pk])).content.decode()
    assert "&quot;passed&quot;: 1" in page or '"passed": 1' in page
    result = experiment.results.get(case_name="capital")
    page = admin_client.get(reverse("admin:evals_caseresult_change", args=[result.pk])).content.decode()
    assert reverse("admin:agents_run_change", args=[result.run_id]) in page
    assert "The answer equals the expected output." in page
    assert admin_client.get(reverse("admin:evals_dataset_change", args=[dataset.pk])).status_code == 200
