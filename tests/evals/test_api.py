"""The evals REST API: strict input with field errors, the one error shape, the owner model,
experiments started, watched and cancelled, scores by run, and a schema without warnings."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from evals.models import Experiment
from tests.evals.conftest import CASES
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


def client_for(actor: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user_id=actor.user_id)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def made(api_client) -> dict[str, Any]:
    dataset = api_client.post("/api/evals/datasets", {"name": "api-set"}, format="json").json()
    case = api_client.post(f"/api/evals/datasets/{dataset['id']}/cases", CASES[0], format="json").json()
    return {"dataset": dataset, "case": case}


def test_datasets_and_cases_crud_bumps_the_version(api_client, made):
    dataset_id, case_id = made["dataset"]["id"], made["case"]["id"]
    assert made["case"]["input_messages"] == [{"role": "user", "content": "What is the capital of France?"}]
    base = f"/api/evals/datasets/{dataset_id}"
    patched = api_client.patch(f"{base}/cases/{case_id}", {"expected_output": "Paris!"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["expected_output"] == "Paris!"
    assert api_client.get(f"{base}/cases").json()[0]["expected_output"] == "Paris!"
    assert api_client.patch(base, {"description": "geo"}, format="json").json()["description"] == "geo"
    assert api_client.get(base).json()["version"] == 3
    assert api_client.delete(f"{base}/cases/{case_id}").status_code == 204
    assert api_client.get(base).json()["case_count"] == 0
    assert api_client.delete(base).status_code == 204
    assert api_client.get(base).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "input": "hi", "expected_tools": ["ghost"]}, "expected_tools"),
        (
            {"name": "x", "input": "hi", "expected_tool_calls": [{"name": "ghost"}]},
            "expected_tool_calls.0.name",
        ),
        (
            {"name": "x", "input": "hi", "assertions": [{"scorer": "json_schema", "schema": {"type": 5}}]},
            "assertions.0",
        ),
        ({"name": "x", "input": "hi", "assertions": [{"scorer": "nope"}]}, "assertions.0"),
        ({"name": "x", "input": "hi", "tags": "geo"}, "tags"),
        ({"name": "x", "input_messages": [{"role": "robot", "content": "hi"}]}, "input_messages.0.role"),
        ({"name": 5, "input": "hi"}, "name"),
    ],
)
def test_a_bad_case_is_a_400_naming_the_field(api_client, made, body, field):
    response = api_client.post(f"/api/evals/datasets/{made['dataset']['id']}/cases", body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert field in payload["details"]


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/evals/datasets", {"name": 5}, "name"),
        ("/api/evals/datasets", {"name": "has space"}, "name"),
        ("/api/evals/experiments", {"dataset_id": "1", "agent_id": "evalbot"}, "dataset_id"),
        ("/api/evals/experiments", {"dataset_id": 1, "agent_id": "evalbot", "repeats": 100}, "repeats"),
        (
            "/api/evals/experiments",
            {"dataset_id": 1, "agent_id": "evalbot", "scorers": [{"scorer": "regex"}]},
            None,
        ),
    ],
)
def test_bad_bodies_are_400s_in_the_error_shape(api_client, made, url, body, field):
    response = api_client.post(url, body, format="json")
    assert response.status_code in {400, 404}
    payload = response.json()
    assert set(payload) == {"code", "message", "details"}
    if field:
        assert response.status_code == 400
        assert field in payload["details"]


def test_a_bad_scorer_entry_on_start_names_it(api_client, made, eval_agent):
    body = {"dataset_id": made["dataset"]["id"], "agent_id": "evalbot", "scorers": [{"scorer": "regex"}]}
    response = api_client.post("/api/evals/experiments", body, format="json")
    assert response.status_code == 400
    details = response.json()["details"]
    assert details["scorers.0"] == ["Invalid options for scorer 'regex'."]
    assert set(details) == {"scorers.0", "scorers.0.pattern"}  # flat: the entry, then its fields
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in details.values())


@pytest.mark.parametrize("query", ["?limit=99999999999999999999", "?limit=0", "?offset=-1", "?limit=abc"])
def test_pagination_is_bounded(api_client, made, query):
    response = api_client.get(f"/api/evals/datasets{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"


def test_another_owner_gets_the_same_404_as_a_missing_object(
    api_client, made, other_member, other_tenant_actor
):
    dataset_id = made["dataset"]["id"]
    missing = api_client.get("/api/evals/datasets/999999999999999999")
    assert missing.status_code == 404
    for stranger in (client_for(other_member), client_for(other_tenant_actor)):
        for method, url in [
            ("get", f"/api/evals/datasets/{dataset_id}"),
            ("patch", f"/api/evals/datasets/{dataset_id}"),
            ("delete", f"/api/evals/datasets/{dataset_id}"),
            ("get", f"/api/evals/datasets/{dataset_id}/cases"),
            ("post", f"/api/evals/datasets/{dataset_id}/cases"),
            ("get", f"/api/evals/datasets/{dataset_id}/cases/{made['case']['id']}"),
        ]:
            response = getattr(stranger, method)(
                url, {"description": "x", "name": "y", "input": "z"}, format="json"
            )
            assert (response.status_code, response.json()) == (404, missing.json()), (method, url)
        assert stranger.get("/api/evals/datasets").json() == []
    assert APIClient().get("/api/evals/datasets").status_code == 401


def test_start_watch_results_scores_and_cancel(
    api_client, made, actor, other_member, eval_agent, openai_server, django_capture_on_commit_callbacks
):
    openai_server.respond_with(lambda body: ChatReply(text="It is Paris."))
    body = {
        "dataset_id": made["dataset"]["id"],
        "agent_id": "evalbot",
        "scorers": [{"scorer": "exact"}, {"scorer": "contains"}],
        "repeats": 2,
    }
    with django_capture_on_commit_callbacks(execute=True):
        started = api_client.post("/api/evals/experiments", body, format="json")
    assert started.status_code == 201
    experiment = api_client.get(f"/api/evals/experiments/{started.json()['id']}").json()
    assert experiment["status"] == "completed"
    assert (experiment["dataset_version"], experiment["agent_id"]) == (2, "evalbot")
    summary = experiment["summary"]
    assert (summary["total"], summary["progress"], summary["counts"]["failed"]) == (2, 1.0, 2)
    assert {s["scorer"]: s["mean"] for s in summary["scorers"]} == {"contains": 1.0, "exact": 0.0}
    results = api_client.get(f"/api/evals/experiments/{experiment['id']}/results").json()
    assert [r["repeat"] for r in results] == [0, 1]
    run_id = results[0]["run_id"]
    scores = api_client.get(f"/api/scores/run/{run_id}").json()
    assert {s["scorer"]: s["passed"] for s in scores} == {"contains": True, "exact": False}
    assert client_for(other_member).get(f"/api/scores/run/{run_id}").json() == []
    assert client_for(other_member).get(f"/api/evals/experiments/{experiment['id']}").status_code == 404
    assert (
        client_for(other_member).post(f"/api/evals/experiments/{experiment['id']}/cancel").status_code == 404
    )

    pending = api_client.post("/api/evals/experiments", body, format="json").json()  # not executed: no commit
    cancelled = api_client.post(f"/api/evals/experiments/{pending['id']}/cancel")
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["summary"]["counts"]["cancelled"] == 2
    assert Experiment.objects.get(pk=pending["id"]).status == Experiment.Status.CANCELLED


def test_scorers_are_listed_with_their_options_schema(api_client):
    scorers = {s["name"]: s for s in api_client.get("/api/scores/scorers").json()}
    assert scorers["rubric"]["judged"] is True
    assert "criteria" in scorers["rubric"]["options_schema"]["required"]
    assert "schema" in scorers["json_schema"]["options_schema"]["properties"]


def test_the_evals_schema_has_request_and_response_schemas_and_no_warnings(capsys):
    generator = SchemaGenerator(patterns=[path("api/", include("evals.api.urls"))])
    schema = generator.get_schema(request=None, public=True)
    assert capsys.readouterr().err == ""
    operations = [op for item in schema["paths"].values() for op in item.values()]
    assert len(operations) == 23
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids))
    for op in operations:
        assert op["responses"], op["operationId"]
        if op["operationId"].endswith(("_create", "_partial_update")) and not op["operationId"].endswith(
            "cancel_create"
        ):
            assert "requestBody" in op, op["operationId"]


def test_unstorable_text_and_huge_ids_are_client_errors(api_client, made):
    url = f"/api/evals/datasets/{made['dataset']['id']}/cases"
    response = api_client.post(url, {"name": "nul", "input": "a\u0000b"}, format="json")
    assert response.status_code == 400
    assert "input" in response.json()["details"]
    huge = api_client.get("/api/evals/datasets/99999999999999999999999")
    assert huge.status_code == 404
    assert set(huge.json()) == {"code", "message", "details"}
