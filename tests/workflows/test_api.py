"""The workflow API in Mastra's shapes, in this process (Celery eager)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from core.models import Membership
from tests.db_pool import checked_out
from tests.factories import UserFactory
from tests.isolation.world import body_of, client_for
from workflows.models import WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def events_of(response: Any) -> list[dict[str, Any]]:
    body = body_of(response)
    return [json.loads(line[6:]) for line in body.splitlines() if line.startswith("data: ")]


def test_list_and_describe(api_client: Any) -> None:
    listed = api_client.get("/api/workflows").json()
    assert "t-sequence" in listed
    assert "research" in listed
    detail = api_client.get("/api/workflows/t-parallel").json()
    assert detail["stepGraph"][0]["type"] == "parallel"
    assert set(detail["steps"]) == {"add-one", "double"}
    assert detail["enabled"] is True
    assert api_client.get("/api/workflows/nope").status_code == 404


def test_create_run_then_start_async(api_client: Any) -> None:
    run_id = api_client.post("/api/workflows/t-sequence/create-run", {}, format="json").json()["runId"]
    answer = api_client.post(
        f"/api/workflows/t-sequence/start-async?runId={run_id}", {"inputData": {"value": 1}}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert (body["runId"], body["status"], body["result"]) == (run_id, "success", {"value": 5})
    assert body["steps"]["1:double"]["output"] == {"value": 4}
    again = api_client.post(
        f"/api/workflows/t-sequence/start?runId={run_id}", {"inputData": {"value": 1}}, format="json"
    )
    assert again.status_code == 409


def test_bad_input_is_400_with_field_errors(api_client: Any) -> None:
    answer = api_client.post("/api/workflows/t-sequence/start", {"inputData": {"value": "x"}}, format="json")
    assert answer.status_code == 400
    assert answer.json()["code"] == "validation_error"
    assert "inputData.value" in answer.json()["details"]
    assert api_client.post("/api/workflows/t-sequence/start?runId=nope", {}, format="json").status_code == 400
    assert api_client.post("/api/workflows/t-sequence/resume", {}, format="json").status_code == 400


def test_suspend_resume_and_409s(api_client: Any) -> None:
    started = api_client.post(
        "/api/workflows/t-suspend/start-async", {"inputData": {"value": 1}}, format="json"
    )
    body = started.json()
    assert body["status"] == "suspended"
    assert body["suspended"] == [
        {"path": "1:ask", "stepId": "ask", "payload": {"question": "what to add to 2?"}}
    ]
    run_id = body["runId"]
    wrong = api_client.post(
        f"/api/workflows/t-suspend/resume?runId={run_id}",
        {"step": "add-one", "resumeData": {}},
        format="json",
    )
    assert wrong.status_code == 409
    invalid = api_client.post(
        f"/api/workflows/t-suspend/resume?runId={run_id}",
        {"step": "ask", "resumeData": {"answer": "x"}},
        format="json",
    )
    assert invalid.status_code == 400
    assert "resumeData.answer" in invalid.json()["details"]
    resumed = api_client.post(
        f"/api/workflows/t-suspend/resume-async?runId={run_id}",
        {"step": "1:ask", "resumeData": {"answer": 3}},
        format="json",
    )
    assert resumed.json()["result"] == {"value": 6}
    twice = api_client.post(
        f"/api/workflows/t-suspend/resume?runId={run_id}",
        {"step": "1:ask", "resumeData": {"answer": 3}},
        format="json",
    )
    assert twice.status_code == 409


def test_resume_all_is_its_own_call(api_client: Any) -> None:
    body = api_client.post(
        "/api/workflows/t-foreach-suspend/start-async", {"inputData": {"values": [1, 2]}}, format="json"
    ).json()
    assert len(body["suspended"]) == 2
    answer = api_client.post(
        f"/api/workflows/t-foreach-suspend/resume-all?runId={body['runId']}",
        {"resumeData": {"answer": 1}},
        format="json",
    )
    assert answer.status_code == 200
    detail = api_client.get(f"/api/workflows/t-foreach-suspend/runs/{body['runId']}").json()
    assert detail["result"] == {"values": [2, 3]}


def test_runs_list_filters_and_pages(api_client: Any) -> None:
    for value in range(3):
        api_client.post("/api/workflows/t-sequence/start", {"inputData": {"value": value}}, format="json")
    api_client.post("/api/workflows/t-suspend/start", {"inputData": {"value": 1}}, format="json")
    page = api_client.get("/api/workflows/t-sequence/runs?limit=2").json()
    assert (page["total"], len(page["runs"])) == (3, 2)
    assert api_client.get("/api/workflows/t-sequence/runs?status=suspended").json()["total"] == 0
    assert api_client.get("/api/workflows/t-suspend/runs?status=suspended").json()["total"] == 1
    assert api_client.get("/api/workflows/t-sequence/runs?status=bogus").status_code == 400
    assert api_client.get("/api/workflows/t-sequence/runs?limit=0").status_code == 400


def test_cancel_and_restart(api_client: Any) -> None:
    run_id = api_client.post(
        "/api/workflows/t-suspend/start", {"inputData": {"value": 1}}, format="json"
    ).json()["runId"]
    cancelled = api_client.post(f"/api/workflows/t-suspend/runs/{run_id}/cancel")
    assert cancelled.status_code == 200
    assert WorkflowRun.objects.get(pk=run_id).status == "canceled"
    restarted = api_client.post(
        f"/api/workflows/t-suspend/restart?runId={run_id}", {"step": "ask"}, format="json"
    )
    assert restarted.status_code == 200
    run = WorkflowRun.objects.get(pk=run_id)
    assert (run.status, run.generation) == ("suspended", 2)
    bad = api_client.post(f"/api/workflows/t-suspend/restart?runId={run_id}", {"step": "zzz"}, format="json")
    assert bad.status_code == 400


def test_stream_and_watch_from_an_offset(api_client: Any) -> None:
    streamed = api_client.post("/api/workflows/t-sequence/stream", {"inputData": {"value": 1}}, format="json")
    assert streamed["Content-Type"] == "text/event-stream"
    events = events_of(streamed)
    assert events[0]["type"] == "workflow-start"
    assert events[-1]["type"] == "workflow-finish"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    run_id = WorkflowRun.objects.get().pk
    replay = events_of(api_client.get(f"/api/workflows/t-sequence/watch?runId={run_id}&offset=3"))
    assert [e["seq"] for e in replay] == list(range(4, len(events) + 1))
    header = events_of(
        api_client.get(f"/api/workflows/t-sequence/watch?runId={run_id}", HTTP_LAST_EVENT_ID="5")
    )
    assert header[0]["seq"] == 6
    assert header[-1]["type"] == "workflow-finish"


def test_watching_a_run_hands_its_database_connections_back(api_client: Any, settings: Any) -> None:
    """Each watch reads events on an executor thread; a connection that thread kept would stay
    checked out of the pool, and a pool's worth of watches would leave every request waiting."""
    api_client.post("/api/workflows/t-sequence/start", {"inputData": {"value": 1}}, format="json")
    run_id = WorkflowRun.objects.get().pk
    checked_out_before = checked_out()
    assert checked_out_before is not None  # the suite runs with DB_POOL
    for _ in range(settings.DB_POOL_MAX_SIZE + 2):
        watched = events_of(api_client.get(f"/api/workflows/t-sequence/watch?runId={run_id}"))
        assert watched[-1]["type"] == "workflow-finish"
    assert (checked_out() or 0) <= checked_out_before


def test_another_owners_run_is_404(api_client: Any, other_actor: Any) -> None:
    from workflows import services

    run = services.run_start(actor=other_actor, workflow_id="t-suspend", input_data={"value": 1})
    for path in (f"/api/workflows/t-suspend/runs/{run.pk}", f"/api/workflows/t-suspend/watch?runId={run.pk}"):
        assert api_client.get(path).status_code == 404
    assert api_client.post(f"/api/workflows/t-suspend/runs/{run.pk}/cancel").status_code == 404
    resume = api_client.post(
        f"/api/workflows/t-suspend/resume?runId={run.pk}", {"resumeData": {"answer": 1}}, format="json"
    )
    assert resume.status_code == 404
    assert api_client.get(f"/api/workflows/t-suspend/runs/{uuid.uuid4()}").status_code == 404
    assert api_client.get("/api/workflows/t-suspend/runs").json()["total"] == 0


def test_backpressure(api_client: Any, settings: Any) -> None:
    first = api_client.post(
        "/api/workflows/t-suspend/start",
        {"inputData": {"value": 1}, "concurrencyKey": "thread-1"},
        format="json",
    )
    assert first.status_code == 200
    second = api_client.post(
        "/api/workflows/t-suspend/start",
        {"inputData": {"value": 1}, "concurrencyKey": "thread-1"},
        format="json",
    )
    assert second.status_code == 409
    assert second.json()["details"]["activeRunId"] == first.json()["runId"]
    settings.WORKFLOW_MAX_ACTIVE_RUNS = 0
    full = api_client.post("/api/workflows/t-sequence/start", {"inputData": {"value": 1}}, format="json")
    assert full.status_code == 429
    assert full.json()["code"] == "too_many_runs"


def test_a_switched_off_workflow_refuses_new_runs(api_client: Any) -> None:
    from workflows.services import definition_set_enabled, definitions_sync

    definitions_sync()
    definition_set_enabled(workflow_id="t-sequence", enabled=False)
    answer = api_client.post("/api/workflows/t-sequence/start", {"inputData": {"value": 1}}, format="json")
    assert answer.status_code == 409
    assert answer.json()["code"] == "disabled"
    assert api_client.get("/api/workflows/t-sequence").json()["enabled"] is False


def test_a_member_may_not_start_a_run_for_another_resource(api_client: Any, user: Any, tenant: Any) -> None:
    other: Any = UserFactory(tenant=tenant)
    for path, body in [
        ("/api/workflows/t-sequence/start", {"inputData": {"value": 1}, "resourceId": str(other.pk)}),
        ("/api/workflows/t-sequence/create-run", {"resourceId": str(other.pk)}),
        ("/api/workflows/t-sequence/create-run", {"resourceId": "anyone-else"}),
    ]:
        answer = api_client.post(path, body, format="json")
        assert answer.status_code == 404, (path, answer.json())
        assert answer.json() == {
            "code": "not_found",
            "message": "Resource not found.",
            "details": {"resourceId": ["not found"]},
        }
    assert not WorkflowRun.objects.exists()
    own = api_client.post("/api/workflows/t-sequence/create-run", {"resourceId": str(user.pk)}, format="json")
    assert own.status_code == 200, own.json()
    admin = client_for(UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN))
    for_other = admin.post(
        "/api/workflows/t-sequence/start",
        {"inputData": {"value": 1}, "resourceId": str(other.pk)},
        format="json",
    )
    assert for_other.status_code == 200, for_other.json()
    assert WorkflowRun.objects.get(pk=for_other.json()["runId"]).resource_id == str(other.pk)


def test_create_run_with_a_taken_id_returns_the_owners_run_and_hides_another_owners(
    api_client: Any, tenant: Any
) -> None:
    run_id = str(uuid.uuid4())
    path = f"/api/workflows/t-sequence/create-run?runId={run_id}"
    first = api_client.post(path, {"threadId": "t-1"}, format="json")
    again = api_client.post(path, {"threadId": "t-2"}, format="json")
    assert first.status_code == again.status_code == 200, again.json()
    assert first.json() == again.json() == {"runId": run_id}
    assert WorkflowRun.objects.get(pk=run_id).thread_id == "t-1"  # returned as it stands
    other = client_for(UserFactory(tenant=tenant))
    theirs = other.post(path, {}, format="json")
    missing = other.get(f"/api/workflows/t-sequence/runs/{uuid.uuid4()}")
    assert theirs.status_code == 404, theirs.json()
    assert (
        theirs.json()
        == missing.json()
        == {
            "code": "not_found",
            "message": "Workflow run not found.",
            "details": {},
        }
    )
    assert (
        other.post(f"/api/workflows/t-sequence/start?runId={run_id}", {}, format="json").json()
        == theirs.json()
    )
    assert (
        api_client.post(f"/api/workflows/t-parallel/create-run?runId={run_id}", {}, format="json").status_code
        == 404
    )
    assert WorkflowRun.objects.count() == 1
