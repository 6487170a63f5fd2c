"""Live-scoring configuration over REST: tenant admins configure, members read what the owner
model lets them (their own and the tenant-wide ones), everything else is a 404; strict input."""

from __future__ import annotations

from typing import Any

import pytest

from evals.models import LiveScoring
from tests.evals.test_api import client_for

pytestmark = pytest.mark.django_db

URL = "/api/evals/live-scorings"
BODY = {"agent_id": "evalbot", "sample_rate": 0.25, "scorers": [{"scorer": "no_side_effect"}]}


def test_a_tenant_admin_creates_changes_and_deletes_an_agents_live_scoring(tenant_admin, eval_agent):
    admin = client_for(tenant_admin)
    created = admin.post(URL, BODY, format="json")
    assert created.status_code == 201, created.json()
    config = created.json()
    assert (config["agent_id"], config["sample_rate"], config["enabled"], config["tenant_wide"]) == (
        "evalbot", 0.25, True, False,
    )  # fmt: skip
    row = LiveScoring.objects.get(pk=config["id"])
    assert (row.owner_id, row.scorers) == (tenant_admin.user_id, [{"scorer": "no_side_effect"}])
    again = admin.post(URL, BODY, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    changed = admin.patch(f"{URL}/{config['id']}", {"sample_rate": 1, "enabled": False}, format="json")
    assert (changed.status_code, changed.json()["sample_rate"], changed.json()["enabled"]) == (
        200,
        1.0,
        False,
    )
    assert [c["id"] for c in admin.get(URL).json()] == [config["id"]]
    assert admin.delete(f"{URL}/{config['id']}").status_code == 204
    assert admin.get(f"{URL}/{config['id']}").status_code == 404
    assert not LiveScoring.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "sample_rate": 1.5}, "sample_rate"),
        ({**BODY, "sample_rate": -0.1}, "sample_rate"),
        ({**BODY, "sample_rate": "0.5"}, "sample_rate"),
        ({**BODY, "scorers": [{"scorer": "ghost"}]}, "scorers.0"),
        ({**BODY, "scorers": [{"scorer": "regex"}]}, "scorers.0"),
        ({**BODY, "agent_id": "ghost"}, "agent_id"),
        ({"sample_rate": 0.5, "scorers": []}, "agent_id"),
    ],
)
def test_bad_configurations_are_400s_with_field_errors(tenant_admin, eval_agent, body, field):
    response = client_for(tenant_admin).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    assert not LiveScoring.objects.exists()


def test_bad_changes_are_400s_with_field_errors(tenant_admin, eval_agent):
    admin = client_for(tenant_admin)
    config = admin.post(URL, BODY, format="json").json()
    for body, field in (
        ({"sample_rate": 2}, "sample_rate"),
        ({"scorers": [{"scorer": "ghost"}]}, "scorers.0"),
    ):
        response = admin.patch(f"{URL}/{config['id']}", body, format="json")
        assert (response.status_code, field in response.json()["details"]) == (400, True), response.json()
    assert LiveScoring.objects.get().sample_rate == 0.25


def test_members_read_tenant_wide_configurations_and_never_configure(
    actor, tenant_admin, other_tenant_actor, eval_agent, tenant
):
    admins = client_for(tenant_admin).post(URL, BODY, format="json").json()
    wide = LiveScoring.objects.create(tenant=tenant, agent_slug="other", sample_rate=0.1, scorers=[])
    member = client_for(actor)
    assert [c["id"] for c in member.get(URL).json()] == [wide.pk]  # the admin's own is not the member's
    assert member.get(f"{URL}/{wide.pk}").json()["tenant_wide"] is True
    assert member.get(f"{URL}/{admins['id']}").status_code == 404
    refused = member.post(URL, {**BODY, "agent_id": "other"}, format="json")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert member.patch(f"{URL}/{wide.pk}", {"sample_rate": 1}, format="json").status_code == 403
    assert member.delete(f"{URL}/{wide.pk}").status_code == 403
    assert member.patch(f"{URL}/{admins['id']}", {"sample_rate": 1}, format="json").status_code == 404
    stranger = client_for(other_tenant_actor)
    assert stranger.get(URL).json() == []
    for method in ("get", "patch", "delete"):
        response = getattr(stranger, method)(f"{URL}/{wide.pk}", {"sample_rate": 1}, format="json")
        assert response.status_code == 404, method
    wide.refresh_from_db()
    assert wide.sample_rate == 0.1


@pytest.mark.django_db(transaction=True)  # the workflow's agent step runs on a thread of its own
def test_a_workflow_experiment_over_rest(
    api_client, actor, openai_server, django_capture_on_commit_callbacks
):
    from agents.services import agent_save
    from tests.evals.test_workflow_target import CASES
    from tests.fakes.openai_server import ChatReply

    agent_save(slug="evaltriage", name="Triage", instructions="Draft.", model="scripted/gpt-test", tools=[])
    openai_server.respond_with(lambda body: ChatReply(text="Drafted: noted."))
    dataset = api_client.post("/api/evals/datasets", {"name": "tickets"}, format="json").json()
    for case in CASES:
        api_client.post(f"/api/evals/datasets/{dataset['id']}/cases", case, format="json")
    body: dict[str, Any] = {"dataset_id": dataset["id"], "workflow_id": "eval-triage", "scorers": []}
    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post("/api/evals/experiments", body, format="json")
    assert started.status_code == 201, started.json()
    experiment = api_client.get(f"/api/evals/experiments/{started.json()['id']}").json()
    assert (experiment["workflow_id"], experiment["workflow_version"], experiment["agent_id"]) == (
        "eval-triage", "1", "",
    )  # fmt: skip
    assert experiment["status"] == "completed"
    results = api_client.get(f"/api/evals/experiments/{experiment['id']}/results").json()
    assert all(r["workflow_run_id"] for r in results)
    assert {r["case_name"]: r["status"] for r in results} == {"routine": "passed", "urgent": "passed"}
    bad = api_client.post("/api/evals/experiments", {**body, "workflow_id": "ghost"}, format="json")
    assert (bad.status_code, "workflow_id" in bad.json()["details"]) == (400, True)
