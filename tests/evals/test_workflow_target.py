"""Experiments against a workflow: each case's input is a workflow run through the real engine,
scorers see its output and its journal, results link to the run."""

from __future__ import annotations

from typing import Any

import pytest

from agents.services import agent_save
from core.errors import ValidationFailed
from evals.models import CaseResult, Experiment
from evals.services import experiments as services
from evals.services.datasets import dataset_import
from tests.fakes.openai_server import ChatReply
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)  # agent steps run on a thread of their own

CASES: list[dict[str, Any]] = [
    {
        "name": "routine",
        "input": "My invoice shows the wrong address.",
        "assertions": [
            {"scorer": "trajectory", "expected": ["classify", "draft"]},
            {"scorer": "contains", "text": "Drafted"},
        ],
    },
    {
        "name": "urgent",
        "input": '{"text": "URGENT: the site is down"}',
        "assertions": [{"scorer": "trajectory", "expected": ["classify", "eval_send_email"]}],
        "tags": ["escalates"],
    },
]


@pytest.fixture
def triage_agent(openai_server: Any) -> Any:
    return agent_save(
        slug="evaltriage", name="Triage", instructions="Draft replies.", model="scripted/gpt-test", tools=[]
    )


@pytest.fixture
def tickets(actor: Any) -> Any:
    return dataset_import(actor=actor, data={"name": "tickets", "cases": CASES})


def start(actor: Any, dataset: Any, **kwargs: Any) -> Experiment:
    return services.experiment_start(
        actor=actor, dataset_id=dataset.pk, workflow_id="eval-triage", enqueue=lambda _id: None, **kwargs
    )


def test_each_case_is_a_workflow_run_scored_on_its_output_and_journal(
    actor, triage_agent, tickets, openai_server
):
    openai_server.respond_with(lambda body: ChatReply(text="Drafted: we will fix the address."))
    experiment = start(actor, tickets, scorers=[{"scorer": "no_side_effect"}])
    assert (experiment.workflow_id, experiment.workflow_version, experiment.agent_slug) == (
        "eval-triage",
        "1",
        "",
    )
    services.experiment_drain(experiment_id=experiment.pk)
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.COMPLETED
    results = {r.case_name: r for r in experiment.results.all()}

    routine = results["routine"]
    assert routine.status == CaseResult.Status.PASSED, routine.scores.values_list("scorer", "reason")
    run = WorkflowRun.objects.get(pk=str(routine.workflow_run_id))
    assert (run.status, run.owner_id, run.input) == ("success", actor.user_id, {"text": CASES[0]["input"]})
    assert routine.output["workflowRunId"] == str(run.pk)
    assert routine.output["object"] == {"reply": "Drafted: we will fix the address.", "escalated": False}
    assert [s["stepId"] for s in routine.output["steps"]] == ["classify", "draft"]  # a map is not a step

    urgent = results["urgent"]
    scores = {s.scorer: s for s in urgent.scores.all()}
    assert scores["trajectory"].passed, scores["trajectory"].reason
    assert not scores["no_side_effect"].passed  # the tool step sent the e-mail
    assert scores["no_side_effect"].reason == "Side effects executed by: eval_send_email."
    assert urgent.status == CaseResult.Status.FAILED
    assert urgent.output["toolCalls"] == [
        {
            "name": "eval_send_email",
            "arguments": {"to": "oncall@example.com", "body": "URGENT: the site is down"},
            "sideEffect": "external",
            "isError": False,
        }
    ]
    assert len(openai_server.chat_requests) == 1  # only the routine ticket asked the agent


def test_a_trajectory_that_went_elsewhere_fails_with_the_steps_it_took(actor, triage_agent, openai_server):
    openai_server.respond_with(lambda body: ChatReply(text="Drafted."))
    dataset = dataset_import(
        actor=actor,
        data={
            "name": "wrong-way",
            "cases": [
                {
                    "name": "expects-escalation",
                    "input": "Please change my e-mail address.",
                    "assertions": [{"scorer": "trajectory", "expected": ["classify", "eval_send_email"]}],
                }
            ],
        },
    )
    experiment = start(actor, dataset, scorers=[])
    services.experiment_drain(experiment_id=experiment.pk)
    score = experiment.results.get().scores.get()
    assert (score.passed, score.value) == (False, 0.5)
    assert score.reason == "Expected classify > eval_send_email; the run went through classify > draft."


def test_a_case_input_the_workflow_refuses_and_a_missing_workflow_are_400s(actor, triage_agent):
    bad = dataset_import(
        actor=actor, data={"name": "bad", "cases": [{"name": "number", "input": '{"text": 5}'}]}
    )
    with pytest.raises(ValidationFailed) as caught:
        start(actor, bad, scorers=[])
    assert list(caught.value.details) == ["cases.number.inputData.text"]
    with pytest.raises(ValidationFailed) as caught:
        services.experiment_start(actor=actor, dataset_id=bad.pk, workflow_id="ghost", scorers=[])
    assert "workflow_id" in caught.value.details
    with pytest.raises(ValidationFailed) as caught:
        services.experiment_start(
            actor=actor, dataset_id=bad.pk, workflow_id="eval-triage", agent_id="evaltriage", scorers=[]
        )
    assert "agent_id" in caught.value.details
    assert not Experiment.objects.exists()


def test_a_workflow_run_that_fails_is_an_errored_case(actor, tickets, openai_server):
    # No agent `evaltriage`: the routine ticket's draft step fails, so the run fails.
    experiment = start(actor, tickets, scorers=[], exclude_tags=["escalates"])
    services.experiment_drain(experiment_id=experiment.pk)
    result = experiment.results.get()
    assert result.status == CaseResult.Status.ERRORED
    assert result.error["code"] == "workflow_failed"
    assert WorkflowRun.objects.get(pk=str(result.workflow_run_id)).status == "failed"


def test_the_gate_runs_a_dataset_against_a_workflow(tenant, openai_server, tmp_path, capsys):
    import yaml
    from django.core.management import CommandError, call_command

    agent_save(slug="evaltriage", name="Triage", instructions="Draft.", model="scripted/gpt-test", tools=[])
    openai_server.respond_with(lambda body: ChatReply(text="Drafted: noted."))
    fixture = tmp_path / "tickets.yaml"
    fixture.write_text(yaml.safe_dump({"name": "tickets-gate", "cases": CASES}))
    with pytest.raises(CommandError) as caught:
        call_command(
            "eval_gate", str(fixture), workflow="eval-triage", tenant=tenant.slug, scorer=["no_side_effect"]
        )
    assert caught.value.returncode == 1
    report = capsys.readouterr().out
    assert "workflow eval-triage v1" in report
    assert "urgent#0 failed" in report
    assert "Side effects executed by: eval_send_email." in report
    call_command(
        "eval_gate", str(fixture), workflow="eval-triage", tenant=tenant.slug, scorer=["no_side_effect"],
        exclude_tag=["escalates"],
    )  # fmt: skip
    assert "cases: 1  passed: 1" in capsys.readouterr().out


def test_the_admin_runs_a_dataset_against_a_workflow(admin_client, tenant, triage_agent, openai_server):
    from django.urls import reverse

    openai_server.respond_with(lambda body: ChatReply(text="Drafted: noted."))
    from core.access import Actor

    dataset = dataset_import(
        actor=Actor.system(tenant_id=tenant.pk), data={"name": "tickets-admin", "cases": CASES}
    )
    form = {
        "action": "start_experiment", "_selected_action": [dataset.pk], "apply": "1", "agent": "",
        "workflow": "eval-triage", "scorers": "[]", "repeats": 1, "concurrency": 2, "exclude_tags": "",
    }  # fmt: skip
    response = admin_client.post(reverse("admin:evals_dataset_changelist"), form)
    assert response.status_code == 302, response.content.decode()[-3000:]
    experiment = Experiment.objects.get()
    assert (experiment.workflow_id, experiment.agent_slug) == ("eval-triage", "")
    result = experiment.results.get(case_name="routine")
    if result.workflow_run_id is None:  # the workers are not in this process: run it here
        services.experiment_drain(experiment_id=experiment.pk)
        result.refresh_from_db()
    page = admin_client.get(reverse("admin:evals_caseresult_change", args=[result.pk])).content.decode()
    assert reverse("admin:workflows_workflowrun_change", args=[result.workflow_run_id]) in page
    page = admin_client.get(reverse("admin:evals_experiment_change", args=[experiment.pk])).content.decode()
    assert "eval-triage" in page
