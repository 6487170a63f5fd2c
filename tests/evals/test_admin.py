"""The evals admin: cases are validated and versioned through the services; pages render."""

from __future__ import annotations

import json
import uuid

import pytest
from django.urls import reverse

from evals.models import Case
from evals.services import experiments
from tests.fakes.openai_server import ChatReply

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
    assert f"{reverse('admin:evals_case_add')}?from_run={result.run_id}" in page
    assert "The answer equals the expected output." in page
    assert admin_client.get(reverse("admin:evals_dataset_change", args=[dataset.pk])).status_code == 200


def test_a_case_is_made_from_a_stored_run_in_one_click(
    admin_client, admin_user, eval_agent, openai_server, dataset
):
    from agents.runtime import generate
    from core.context import RequestContext
    from core.tenancy import tenant_for_user
    from tests.fakes.openai_server import ToolCall

    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": "Asia/Tokyo"})]),
        ChatReply(text="It is noon in Tokyo."),
    )
    tenant = tenant_for_user(admin_user)
    run = generate(
        "evalbot", context=RequestContext(tenant_id=tenant.pk, user_id=admin_user.pk), prompt="Tokyo time?"
    )
    url = reverse("admin:evals_case_add") + f"?from_run={run.run_id}"
    page = admin_client.get(url).content.decode()
    assert "Tokyo time?" in page
    assert "Asia/Tokyo" in page
    assert "It is noon in Tokyo." in page
    calls = json.dumps([{"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}])
    form = _case_form(
        dataset,
        name=f"run-{run.run_id[:8]}",
        input_messages=json.dumps([{"role": "user", "content": "Tokyo time?"}]),
        expected_tool_calls=calls,
        expected_tools='["current_time"]',
    )
    assert admin_client.post(reverse("admin:evals_case_add"), form).status_code == 302
    case = Case.objects.get(name=f"run-{run.run_id[:8]}")
    assert case.expected_tool_calls == [{"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}]
    missing = admin_client.get(reverse("admin:evals_case_add") + f"?from_run={uuid.uuid4()}", follow=True)
    assert "That run was not found" in missing.content.decode()
