"""Approval steps through the runs' approval service (`agents.runs.services`).

When an approval step suspends, the engine stores, in the same transaction as the
suspension, an agent `Run` with status `suspended` and one approval `ToolCallGate` (marked
`{"external": {"kind": "workflow", ...}}`, see `agents.runs.external`): the approval then
shows wherever tool approvals show (the admin's pending approvals, `GET
/api/agents/<id>/suspended-runs`, REST approve/decline, the chat's approval cards) and obeys
the same rules: the run's owner or a tenant admin decides, a second decision is a 409 with the
first, a gate past `APPROVAL_TTL_S` is expired by the beat sweep (declined, reason "expired"),
a new message on the thread declines it. Whatever decides it, the workflow's suspension is
resumed with `{"approved", "reason"}` in the deciding transaction and the run is queued.
The workflow's own resume route decides the gate the same way. The agent is the step's
`agent`, else WORKFLOW_APPROVAL_AGENT; where the tenant has no such agent, the step is a plain
suspension, resumed over the workflow's routes only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q

from agents.models import Agent, Run, ToolCallGate
from agents.runs.external import ExternalHandler, external_register
from workflows.definition import Step
from workflows.models import Suspension, WorkflowRun

KIND = "workflow"


def tool_call_id_of(suspension: Suspension) -> str:
    return f"workflow.{suspension.pk}"


def gate_open(run: WorkflowRun, suspension: Suspension, step: Step) -> dict[str, Any] | None:
    """The approval gate of a suspended approval step (inside the engine's commit), as
    `gate_of` describes it; None where the tenant has no such agent (a plain suspension)."""
    slug = step.approval_agent or str(settings.WORKFLOW_APPROVAL_AGENT)
    agent = (
        Agent.objects.filter(Q(tenant_id=run.tenant_id) | Q(tenant__isnull=True), slug=slug)
        .only("id", "version")
        .first()
    )
    if agent is None:
        return None
    now = datetime.now(UTC)
    payload = suspension.payload if isinstance(suspension.payload, dict) else {"value": suspension.payload}
    carrier = Run.objects.create(
        tenant_id=run.tenant_id,
        agent=agent,
        agent_version=agent.version,
        user_id=run.owner_id,
        thread_id=run.thread_id[:200],
        resource_id=run.resource_id[:200],
        status=Run.Status.SUSPENDED,
        input={"workflowId": run.workflow_id, "workflowRunId": str(run.pk), "path": suspension.path},
        state={
            "external": {
                "kind": KIND,
                "workflowRunId": str(run.pk),
                "suspensionId": suspension.pk,
                "path": suspension.path,
            }
        },
        checkpoint_at=now,
        created_at=now,
    )
    gate = ToolCallGate.objects.create(
        tenant_id=run.tenant_id,
        owner_id=run.owner_id,
        run=carrier,
        tool_call_id=tool_call_id_of(suspension),
        tool_name=f"{run.workflow_id}.{suspension.step_id}"[:100],
        kind=ToolCallGate.Kind.APPROVAL,
        input=payload,
        args_hash=hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest(),
        expires_at=now + timedelta(seconds=float(settings.APPROVAL_TTL_S)),
    )
    Suspension.objects.filter(pk=suspension.pk).update(approval_run_id=carrier.pk)
    suspension.approval_run_id = carrier.pk
    return {
        "agentId": slug,
        "runId": str(carrier.pk),
        "toolCallId": gate.tool_call_id,
        "approvalId": str(gate.pk),
    }


def gate_of(suspension: Suspension) -> dict[str, Any] | None:
    """What the chat and the API need to decide a suspension's gate: agent, run and call ids."""
    if suspension.approval_run_id is None:
        return None
    slug = Run.objects.filter(pk=suspension.approval_run_id).values_list("agent__slug", flat=True).first()
    if slug is None:
        return None
    return {
        "agentId": slug,
        "runId": str(suspension.approval_run_id),
        "toolCallId": tool_call_id_of(suspension),
    }


def gates_close(run: WorkflowRun, *, reason: str) -> None:
    """End the pending gates of a run's suspensions (cancelled or restarted), in its transaction."""
    from agents.runtime.resume import run_end_waiting

    ids = [
        i
        for i in Suspension.objects.filter(run=run, approval_run_id__isnull=False).values_list(
            "approval_run_id", flat=True
        )
        if i is not None
    ]
    for carrier in Run.objects.select_for_update().filter(pk__in=ids, status=Run.Status.SUSPENDED):
        run_end_waiting(
            run=carrier,
            gate_status=ToolCallGate.Status.CANCELLED,
            reason=reason,
            code="run_cancelled",
            message="The workflow run stopped waiting for this approval.",
        )


def _marker(carrier: Run) -> dict[str, Any]:
    state: Any = carrier.state
    marker: dict[str, Any] = state["external"]
    return marker


def _resume(carrier: Run, *, approved: bool, reason: str, user_id: int | None) -> None:
    from workflows.services import suspension_resume_locked

    marker = _marker(carrier)
    suspension_resume_locked(
        run_id=uuid.UUID(marker["workflowRunId"]),
        suspension_id=int(marker["suspensionId"]),
        resume_data={"approved": approved, "reason": reason},
        user_id=user_id,
    )


def _decided(carrier: Run, gate: ToolCallGate, user_id: int | None) -> None:
    approved = gate.status == ToolCallGate.Status.APPROVED
    Run.objects.filter(pk=carrier.pk).update(
        status=Run.Status.COMPLETED,
        result={
            "text": "approved" if approved else f"declined: {gate.reason}".strip(),
            "finishReason": "stop",
        },
        checkpoint_at=datetime.now(UTC),
    )
    _resume(carrier, approved=approved, reason=gate.reason, user_id=user_id)


def _ended(carrier: Run, gate_status: str, reason: str) -> None:
    _resume(carrier, approved=False, reason=reason or gate_status, user_id=None)


external_register(KIND, ExternalHandler(decided=_decided, ended=_ended))
