"""An approval step is an approval of the runs' approval service: listed with the pending
tool approvals, decided over REST, the chat socket's frames, the admin or the workflow's own
resume route, once (409 on a second decision), by the owner or a tenant admin, expired by the
sweep, and closed when the workflow is cancelled."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from agents.models import Run, ToolCallGate
from agents.runs import selectors as run_selectors
from agents.runs import services as runs
from core.access import Actor
from core.errors import Conflict, NotFound
from workflows import services
from workflows.models import Event, Suspension, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def approver(db: None) -> Any:
    from agents.services import agent_save

    return agent_save(slug="t-approver", name="Approver", instructions="Approves.", model="scripted/gpt-test")


def _suspended(actor: Actor, **kwargs: Any) -> tuple[WorkflowRun, ToolCallGate]:
    run = services.run_start(actor=actor, workflow_id="t-approve", input_data={"value": 1}, **kwargs)
    run.refresh_from_db()
    assert run.status == "suspended", run.error
    gate = ToolCallGate.objects.select_related("run__agent").get(
        run__state__external__workflowRunId=str(run.pk)
    )
    return run, gate


def test_the_approval_is_a_pending_tool_approval_of_the_agent(actor: Actor, approver: Any) -> None:
    run, gate = _suspended(actor, thread_id="th-1", resource_id=str(actor.user_id))
    assert gate.kind == "approval"
    assert gate.status == "pending"
    assert gate.input["question"] == "Sign off on 2?"
    assert gate.expires_at is not None
    assert [g.pk for g in run_selectors.gates_pending(actor=actor)] == [gate.pk]
    suspended = run_selectors.runs_suspended(actor=actor, agent_id="t-approver", thread_id="th-1")
    assert [r.pk for r in suspended] == [gate.run_id]
    event = Event.objects.filter(run=run, type="workflow-step-suspended").get()
    data: Any = event.data
    assert data["approval"] == {
        "agentId": "t-approver",
        "runId": str(gate.run_id),
        "toolCallId": gate.tool_call_id,
        "approvalId": str(gate.pk),
    }


def test_deciding_the_gate_resumes_the_workflow_once(actor: Actor, approver: Any) -> None:
    run, gate = _suspended(actor)
    decision = runs.tool_call_decide(
        actor=actor, agent_id="t-approver", run_id=gate.run_id, tool_call_id=gate.tool_call_id, approve=True
    )
    assert decision.ready is False  # no agent loop to continue
    run.refresh_from_db()
    assert run.status == "success", run.error
    assert run.output == {"approved": True, "reason": "", "value": 2}
    assert Run.objects.get(pk=gate.run_id).status == "completed"
    with pytest.raises(runs.AlreadyDecided):
        runs.tool_call_decide(
            actor=actor,
            agent_id="t-approver",
            run_id=gate.run_id,
            tool_call_id=gate.tool_call_id,
            approve=False,
        )
    suspension = Suspension.objects.get(run=run)
    assert suspension.status == "resumed"
    assert suspension.resumed_by_id == actor.user_id


def test_declined_over_rest_with_a_reason(actor: Actor, approver: Any, api_client: Any) -> None:
    run, gate = _suspended(actor)
    response = api_client.post(
        "/api/agents/t-approver/decline-tool-call-generate",
        {"runId": str(gate.run_id), "toolCallId": gate.tool_call_id, "reason": "too small"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "completed"
    run.refresh_from_db()
    assert run.output == {"approved": False, "reason": "too small", "value": 2}
    again = api_client.post(
        "/api/agents/t-approver/approve-tool-call",
        {"runId": str(gate.run_id), "toolCallId": gate.tool_call_id},
        format="json",
    )
    assert again.status_code == 409
    assert again.json()["details"]["decision"]["status"] == "declined"


def test_the_workflows_resume_route_decides_the_gate(actor: Actor, approver: Any, api_client: Any) -> None:
    run, gate = _suspended(actor)
    url = f"/api/workflows/t-approve/resume?runId={run.pk}"
    bad = api_client.post(url, {"step": "sign-off", "resumeData": {"approved": "maybe"}}, format="json")
    assert bad.status_code == 400
    ok = api_client.post(
        url, {"step": "sign-off", "resumeData": {"approved": True, "reason": "fine"}}, format="json"
    )
    assert ok.status_code == 200, ok.json()
    gate.refresh_from_db()
    assert gate.status == "approved"
    assert gate.reason == "fine"
    assert gate.decided_by_id == actor.user_id
    run.refresh_from_db()
    assert run.output == {"approved": True, "reason": "fine", "value": 2}
    again = api_client.post(url, {"step": "sign-off", "resumeData": {"approved": False}}, format="json")
    assert again.status_code == 409


def test_only_the_owner_or_a_tenant_admin_decides(actor: Actor, other_actor: Actor, approver: Any) -> None:
    run, gate = _suspended(actor)
    with pytest.raises(NotFound):
        runs.tool_call_decide(
            actor=other_actor,
            agent_id="t-approver",
            run_id=gate.run_id,
            tool_call_id=gate.tool_call_id,
            approve=True,
        )
    assert run_selectors.gates_pending(actor=other_actor).count() == 0
    admin = Actor(tenant_id=actor.tenant_id, user_id=other_actor.user_id, is_tenant_admin=True)
    runs.tool_call_decide(
        actor=admin, agent_id="t-approver", run_id=gate.run_id, tool_call_id=gate.tool_call_id, approve=True
    )
    run.refresh_from_db()
    assert run.status == "success"


def test_an_expired_approval_declines_the_step(actor: Actor, approver: Any) -> None:
    run, gate = _suspended(actor)
    ToolCallGate.objects.filter(pk=gate.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert runs.gates_expire() == 1
    run.refresh_from_db()
    assert run.status == "success", run.error
    assert run.output == {"approved": False, "reason": "expired", "value": 2}
    gate.refresh_from_db()
    assert gate.status == "expired"


def test_cancelling_the_workflow_cancels_its_approval(actor: Actor, approver: Any) -> None:
    run, gate = _suspended(actor)
    services.run_cancel(actor=actor, run=run)
    run.refresh_from_db()
    assert run.status == "canceled"
    gate.refresh_from_db()
    assert gate.status == "cancelled"
    assert Run.objects.get(pk=gate.run_id).status == "cancelled"
    with pytest.raises(Conflict):
        runs.tool_call_decide(
            actor=actor,
            agent_id="t-approver",
            run_id=gate.run_id,
            tool_call_id=gate.tool_call_id,
            approve=True,
        )


def test_without_the_agent_the_step_is_a_plain_suspension(actor: Actor) -> None:
    run = services.run_start(actor=actor, workflow_id="t-approve", input_data={"value": 1})
    run.refresh_from_db()
    assert run.status == "suspended"
    assert not ToolCallGate.objects.exists()
    services.run_resume(actor=actor, run=run, step="sign-off", resume_data={"approved": True})
    run.refresh_from_db()
    assert run.output == {"approved": True, "reason": "", "value": 2}
