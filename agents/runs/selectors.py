"""Reads for stored runs and the tool calls they wait on, scoped by the owner model."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from agents.models import Run, ToolCallGate
from core.access import Actor, owned
from core.errors import NotFound
from memory.services import memory_resource_for


def run_owned(*, actor: Actor, run_id: uuid.UUID | str, agent_id: str | None = None) -> QuerySet[Run]:
    """The run if the actor may manage it (its owner, or a tenant admin); an empty set otherwise."""
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        return Run.objects.none()
    queryset = Run.objects.select_related("agent").filter(id=run_id)
    if agent_id is not None:
        queryset = queryset.filter(agent__slug=agent_id)
    return owned(queryset, actor, owner_field="user_id")


def run_get_owned(*, actor: Actor, run_id: uuid.UUID | str, agent_id: str | None = None) -> Run:
    run = run_owned(actor=actor, run_id=run_id, agent_id=agent_id).first()
    if run is None:
        raise NotFound("Run not found.", details={"runId": [str(run_id)]})
    return run


def runs_suspended(
    *, actor: Actor, agent_id: str, thread_id: str | None = None, resource_id: str | None = None
) -> QuerySet[Run]:
    """Suspended runs of one agent the actor may manage, newest first, with their gates.

    A `resource_id` the actor may not act for (another member's) raises NotFound, as memory
    answers it, rather than listing nothing."""
    queryset = Run.objects.filter(agent__slug=agent_id, status=Run.Status.SUSPENDED)
    if thread_id:
        queryset = queryset.filter(thread_id=thread_id)
    if resource_id:
        resource_id = memory_resource_for(actor=actor, requested=resource_id)
        queryset = queryset.filter(resource_id=resource_id)
    return (
        owned(queryset, actor, owner_field="user_id")
        .select_related("agent")
        .prefetch_related("gates")
        .order_by("-created_at")
    )


def gates_pending(*, actor: Actor, agent_id: str | None = None) -> QuerySet[ToolCallGate]:
    """Tool calls waiting for a decision or resume data that the actor may decide, oldest first."""
    queryset = ToolCallGate.objects.filter(status=ToolCallGate.Status.PENDING).select_related("run__agent")
    if agent_id:
        queryset = queryset.filter(run__agent__slug=agent_id)
    return owned(queryset, actor, owner_field="owner_id").order_by("created_at")


def gate_dict(gate: ToolCallGate) -> dict[str, Any]:
    """A gate in the API's shape (camelCase), as in `pendingToolCalls` and 409 answers."""
    item: dict[str, Any] = {
        "approvalId": str(gate.id),
        "runId": str(gate.run_id),
        "toolCallId": gate.tool_call_id,
        "toolName": gate.tool_name,
        "kind": gate.kind,
        "status": gate.status,
        "input": gate.input,
        "argsHash": gate.args_hash,
        "createdAt": gate.created_at.isoformat() if gate.created_at else None,
        "decidedBy": gate.decided_by_id,
        "decidedAt": gate.decided_at.isoformat() if gate.decided_at else None,
        "reason": gate.reason,
        "expiresAt": gate.expires_at.isoformat() if gate.expires_at else None,
    }
    if gate.kind == ToolCallGate.Kind.SUSPENSION:
        item["suspendPayload"] = gate.suspend_payload
        item["resumeSchema"] = gate.resume_schema
    return item
