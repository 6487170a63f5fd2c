"""Two experiments compared: a prompt change that breaks one case shows exactly that case as regressed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from agents.services import agent_save
from core.errors import NotFound
from evals.comparison import experiment_compare
from evals.services import experiments as services
from evals.services.datasets import dataset_import
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db

CASES = [
    {
        "name": "capital",
        "input": "Capital of France?",
        "expected_output": "Paris",
        "assertions": [{"scorer": "contains"}],
    },
    {
        "name": "greeting",
        "input": "Say hello",
        "expected_output": "hello",
        "assertions": [{"scorer": "contains"}],
    },
]


def respond(body: dict[str, Any]) -> ChatReply:
    system, question = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "Capital" in question:
        return ChatReply(text="Lyon." if "tersely" in system else "It is Paris.")
    return ChatReply(text="hello")


def save(instructions: str) -> Any:
    return agent_save(
        slug="evalbot", name="Eval bot", instructions=instructions, model="scripted/gpt-test", tools=[]
    )


def run(actor: Any, dataset: Any) -> Any:
    experiment = services.experiment_start(
        actor=actor,
        dataset_id=dataset.pk,
        agent_id="evalbot",
        scorers=[],
        repeats=2,
        enqueue=lambda _id: None,
    )
    services.experiment_drain(experiment_id=experiment.pk)
    return experiment


@pytest.fixture
def pair(actor, openai_server) -> tuple[Any, Any]:
    openai_server.respond_with(respond)
    dataset = dataset_import(actor=actor, data={"name": "cmp", "cases": CASES})
    v1 = save("You answer questions.")
    baseline = run(actor, dataset)
    v2 = save("You answer tersely.")
    candidate = run(actor, dataset)
    assert (baseline.agent_version, candidate.agent_version) == (v1.version, v2.version)
    return baseline, candidate


def test_the_broken_case_is_the_one_regressed(actor, pair):
    baseline, candidate = pair
    comparison = experiment_compare(actor=actor, baseline_id=baseline.pk, candidate_id=candidate.pk)
    assert [c.case_name for c in comparison.regressed] == ["capital"]
    assert comparison.improved == []
    assert comparison.unchanged == ["greeting"]
    change = comparison.regressed[0]
    assert (change.baseline_pass_rate, change.candidate_pass_rate) == (1.0, 0.0)
    assert (change.baseline_scores, change.candidate_scores) == ({"contains": 1.0}, {"contains": 0.0})
    assert {r["trace_id"] for r in change.baseline_runs} == {
        str(r.trace_id) for r in baseline.results.filter(case_name="capital")
    }
    (contains,) = comparison.scorers
    assert (contains.baseline_mean, contains.candidate_mean, contains.delta) == (1.0, 0.5, -0.5)
    assert (contains.baseline_stdev, contains.candidate_stdev) == (0.0, 0.5)
    reverse_view = experiment_compare(actor=actor, baseline_id=candidate.pk, candidate_id=baseline.pk)
    assert [c.case_name for c in reverse_view.improved] == ["capital"]
    assert reverse_view.regressed == []


def test_the_comparison_over_the_api_and_the_owner_model(api_client, actor, other_member, pair):
    baseline, candidate = pair
    url = f"/api/evals/experiments/{baseline.pk}/compare/{candidate.pk}"
    body = api_client.get(url).json()
    assert [c["case_name"] for c in body["regressed"]] == ["capital"]
    assert body["scorers"][0]["delta"] == -0.5
    token, _ = Token.objects.get_or_create(user_id=other_member.user_id)
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert stranger.get(url).status_code == 404
    with pytest.raises(NotFound):
        experiment_compare(actor=other_member, baseline_id=baseline.pk, candidate_id=candidate.pk)


def test_the_admin_compares_two_selected_experiments_with_links_to_both_traces(admin_client, pair):
    baseline, candidate = pair
    response = admin_client.post(
        reverse("admin:evals_experiment_changelist"),
        {"action": "compare", "_selected_action": [baseline.pk, candidate.pk]},
    )
    page = response.content.decode()
    assert "Regressed (1)" in page
    assert "Improved (0)" in page
    for result in [
        *baseline.results.filter(case_name="capital"),
        *candidate.results.filter(case_name="capital"),
    ]:
        assert reverse("admin:observability_trace_change", args=[result.trace_id]) in page
    assert "Unchanged: greeting" in page
