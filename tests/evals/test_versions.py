"""Experiments against a stored agent version: each case runs that version's instructions and
allowlist (the run records it), and two versions' experiments compare case by case."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Run
from agents.services import agent_save, tool_set_enabled, tools_sync
from evals.comparison import experiment_compare
from evals.services import experiments as services
from evals.services.datasets import dataset_import
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db

CASES = [
    {"name": "capital", "input": "Capital of France?", "expected_output": "Paris"},
    {"name": "greeting", "input": "Say hello", "expected_output": "hello"},
]


def respond(body: dict[str, Any]) -> ChatReply:
    """Version 1's instructions give the right capital; version 2's ("tersely") a wrong one."""
    system, question = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "Capital" in question:
        return ChatReply(text="Lyon." if "tersely" in system else "It is Paris.")
    return ChatReply(text="hello")


def save(instructions: str, tools: list[str] | None = None) -> Any:
    return agent_save(
        slug="evalbot",
        name="Eval bot",
        instructions=instructions,
        model="scripted/gpt-test",
        tools=tools or [],
    )


def run(actor: Any, dataset: Any, version: int | None = None, scorer: str = "contains") -> Any:
    experiment = services.experiment_start(
        actor=actor,
        dataset_id=dataset.pk,
        agent_id="evalbot",
        agent_version=version,
        scorers=[{"scorer": scorer}],
        enqueue=lambda _id: None,
    )
    services.experiment_drain(experiment_id=experiment.pk)
    return experiment


@pytest.fixture
def versions(openai_server: Any) -> tuple[Any, Any]:
    openai_server.respond_with(respond)
    v1 = save("You answer questions.")
    v2 = save("You answer tersely.")
    return v1.versions.get(number=1), v2.versions.get(number=2)


def test_an_experiment_runs_the_older_version_it_names(actor, versions):
    dataset = dataset_import(actor=actor, data={"name": "vers", "cases": CASES})
    old = run(actor, dataset, version=1)
    current = run(actor, dataset)
    assert (old.agent_version, current.agent_version) == (1, 2)
    assert {r.status for r in old.results.all()} == {"passed"}
    assert old.results.get(case_name="capital").output["text"] == "It is Paris."
    assert current.results.get(case_name="capital").output["text"] == "Lyon."
    runs = Run.objects.filter(pk__in=[r.run_id for r in old.results.all()])
    assert set(runs.values_list("agent_version", flat=True)) == {1}
    assert set(
        Run.objects.filter(pk=current.results.get(case_name="capital").run_id).values_list(
            "agent_version", flat=True
        )
    ) == {2}

    comparison = experiment_compare(actor=actor, baseline_id=old.pk, candidate_id=current.pk)
    assert [c.case_name for c in comparison.regressed] == ["capital"]
    assert comparison.unchanged == ["greeting"]
    assert comparison.improved == []


def test_an_experiment_keeps_its_version_when_the_agent_changes_while_it_runs(actor, openai_server):
    openai_server.respond_with(respond)
    save("You answer questions.")
    dataset = dataset_import(actor=actor, data={"name": "pinned", "cases": CASES})
    experiment = services.experiment_start(
        actor=actor, dataset_id=dataset.pk, agent_id="evalbot", scorers=[], enqueue=lambda _id: None
    )
    save("You answer tersely.")  # version 2 lands while the experiment's cases wait
    services.experiment_drain(experiment_id=experiment.pk)
    assert experiment.agent_version == 1
    assert experiment.results.get(case_name="capital").output["text"] == "It is Paris."
    runs = Run.objects.filter(pk__in=[r.run_id for r in experiment.results.all()])
    assert set(runs.values_list("agent_version", flat=True)) == {1}


def test_an_old_version_brings_back_its_allowlist_but_not_a_tool_an_operator_turned_off(actor, openai_server):
    tools_sync()
    save("You tell the time.", tools=["current_time"])
    save("You tell the time.", tools=[])
    dataset = dataset_import(
        actor=actor,
        data={
            "name": "tools",
            "cases": [{"name": "time", "input": "Time?", "expected_tools": ["current_time"]}],
        },
    )
    seen: list[list[str]] = []

    def respond_tools(body: dict[str, Any]) -> ChatReply:
        offered = [t["function"]["name"] for t in body.get("tools") or []]
        seen.append(offered)
        if "current_time" in offered and body["messages"][-1]["role"] == "user":
            return ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": "UTC"})])
        return ChatReply(text="It is noon.")

    openai_server.respond_with(respond_tools)
    old = run(actor, dataset, version=1, scorer="required_tools")
    assert seen[0] == ["current_time", "render_data"]  # render_data is ambient
    assert old.results.get().status == "passed"
    seen.clear()
    tool_set_enabled(tool_id="current_time", enabled=False)
    switched_off = run(actor, dataset, version=1, scorer="required_tools")
    assert seen[0] == ["render_data"]  # current_time is switched off; render_data is ambient
    assert switched_off.results.get().status == "failed"


@pytest.mark.parametrize(
    ("version", "problem"), [(3, "no version 3"), (0, "positive"), ("1", "positive"), (True, "positive")]
)
def test_a_version_that_does_not_exist_is_a_400_naming_the_field(actor, versions, version, problem):
    from core.errors import ValidationFailed

    dataset = dataset_import(actor=actor, data={"name": "bad", "cases": CASES})
    with pytest.raises(ValidationFailed) as caught:
        services.experiment_start(
            actor=actor, dataset_id=dataset.pk, agent_id="evalbot", agent_version=version, scorers=[]
        )
    assert "agent_version" in caught.value.details
    assert problem in caught.value.message


def test_the_api_starts_an_experiment_on_a_version(api_client, actor, versions):
    dataset = dataset_import(actor=actor, data={"name": "api-vers", "cases": CASES})
    url = "/api/evals/experiments"
    body = {"dataset_id": dataset.pk, "agent_id": "evalbot", "agent_version": 1}
    response = api_client.post(url, body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["agent_version"] == 1
    for bad in (99, "1", 0):
        response = api_client.post(url, {**body, "agent_version": bad}, format="json")
        assert response.status_code == 400
        assert response.json()["code"] == "validation_error"
        assert "agent_version" in response.json()["details"]
