"""Continuing a stored run in any process, and ending one that waits without the model.

Everything comes from PostgreSQL: the run's row (`Run.state`, see `agents.runtime.state`)
and its gates. Nothing of the process that started the run is needed, so a decision
taken after that process restarted, or received by another one, continues the run.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

from django.db import connection, transaction

from agents.models import Run, ToolCallGate
from agents.providers.config import resolve
from agents.runtime.checkpoint import session_from_state
from agents.runtime.loop import refusal
from agents.runtime.memory_hooks import memory_close
from agents.runtime.setup import GateDecision, RunSetup, allowed_tools
from agents.runtime.spec import agent_spec_load
from agents.runtime.state import RunState
from agents.runtime.turn import Turn, options_from_state
from agents.runtime.types import Usage
from core.context import RequestContext
from core.errors import Disabled
from observability.tracing import trace_join, trace_start


def continuation_setup(*, run: Run, gates: list[ToolCallGate]) -> RunSetup:
    """The setup of a suspended run whose gates are all decided, rebuilt from its stored state.

    The agent's current configuration applies (a tool switched off meanwhile is refused);
    the chain is the stored one without routes disabled since.
    """
    state = RunState.from_dict(run.state)
    spec = agent_spec_load(slug=run.agent.slug, tenant_id=run.tenant_id)
    chain_names = [name for name in state.chain if not spec.route_disabled(name)]
    if not chain_names:
        raise Disabled(
            "Every model route of this run is disabled by an operator.", details={"model": state.chain}
        )
    options = options_from_state(state.options, run_id=str(run.id))
    context = RequestContext(
        tenant_id=run.tenant_id,
        user_id=run.user_id,
        resource_id=run.resource_id or None,
        values=MappingProxyType(dict((run.input or {}).get("requestContext") or {})),
    )
    turn = Turn(
        spec=spec,
        messages=state.messages,
        tools=allowed_tools(spec),
        options=options,
        step=state.step,
        usage=Usage(state.usage.get("prompt", 0), state.usage.get("completion", 0)),
        text=state.text,
        finish_reason=state.finish_reason,
        tool_calls=state.tool_calls,
        tool_results=state.tool_results,
        invalid_calls=state.invalid_calls,
    )
    # One run, one trace: the continuation's spans join the trace the run started
    # (approval requested there; decided and resumed here, then the rest of the run).
    trace = (
        trace_join(
            trace_id=run.trace_id,
            name=f"agent.run {spec.slug}",
            tenant_id=run.tenant_id,
            owner_id=run.user_id,
        )
        if run.trace_id is not None
        else trace_start(
            name=f"agent.run {spec.slug}", tenant_id=run.tenant_id, owner_id=run.user_id, run_id=str(run.id)
        )
    )
    chain = [resolve(name) for name in chain_names]
    run_span = trace.start_span(
        "agent.run",
        kind="run",
        agent_id=spec.slug,
        agent_version=spec.version,
        model=chain[0].id,
        thread_id=run.thread_id,
        resumed=True,
    )
    decisions: dict[str, GateDecision] = {}
    for gate in gates:
        decisions[gate.tool_call_id] = GateDecision(
            gate_id=str(gate.id),
            status=gate.status,
            reason=gate.reason,
            resume_data=gate.resume_data,
            decided_by=gate.decided_by_id,
        )
        trace.start_span(
            "approval.decided" if gate.kind == ToolCallGate.Kind.APPROVAL else "suspension.resumed",
            kind="approval",
            tool_name=gate.tool_name,
            tool_call_id=gate.tool_call_id,
            gate_id=str(gate.id),
            decision=gate.status,
            decided_by=gate.decided_by_id,
            decided_at=gate.decided_at.isoformat() if gate.decided_at else None,
            reason=gate.reason,
        ).end()
    trace.start_span("run.resumed", kind="run", run_id=str(run.id), step=state.step).end()
    model = state.chain[state.chain_position] if state.chain_position < len(state.chain) else chain[0].id
    return RunSetup(
        run_id=run.id,
        spec=spec,
        context=context,
        chain=chain,
        turn=turn,
        trace=trace,
        run_span=run_span,
        started_at=run.created_at,
        input_payload=run.input or {},
        thread_id=run.thread_id,
        memory=None,
        memory_session=session_from_state(state.memory),
        inserted=True,
        step_calls=state.calls(),
        decisions=decisions,
        model=model,
        resumed=True,
    )


def run_end_waiting(
    *, run: Run, gate_status: str, reason: str, code: str, message: str, decided_by: int | None = None
) -> None:
    """End a suspended run without calling the model (cancelled, expired, superseded).

    Its waiting gates get `gate_status`; the conversation keeps a whole turn: each call of
    the stopped step gets its recorded outcome or a refusal with the reason, written to
    memory with the run's outcome. Call inside a transaction holding the run's row lock.
    """
    now = datetime.now(UTC)
    state = RunState.from_dict(run.state) if run.state and "external" not in run.state else None
    ToolCallGate.objects.filter(run=run, status=ToolCallGate.Status.PENDING).update(
        status=gate_status, reason=reason, decided_at=now, decided_by_id=decided_by
    )
    run.status = Run.Status.CANCELLED
    run.error = {"code": code, "message": message, "details": {"reason": reason}, "status": 409}
    run.checkpoint_at = now
    run.duration_ms = (now - run.created_at).total_seconds() * 1000
    run.save(update_fields=["status", "error", "checkpoint_at", "duration_ms"])
    from agents.runs.external import external_of

    external = external_of(run)
    if external is not None:  # another engine's wait: it hears why, nothing goes to memory
        external.ended(run, gate_status, reason)
        return
    if state is None:
        return
    messages: list[dict[str, Any]] = list(state.messages)
    for call in state.calls():
        if call.done:
            content = call.outcome().content()
        else:
            content = json.dumps({"error": refusal(call, gate_status, reason)})
        messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
    session = session_from_state(state.memory)
    if session is not None:
        memory_close(
            session=session, messages=messages, run_id=str(run.id), status="cancelled", partial_text=""
        )


# The runs with calls waiting on a thread: the gates' (tenant, status) index, then each run by id.
_WAITING_ON_THREAD = (
    "SELECT DISTINCT g.run_id FROM agents_toolcallgate g JOIN agents_run r ON r.id = g.run_id"
    " WHERE g.tenant_id = %s AND g.status = %s AND r.thread_id = %s AND r.resource_id = %s"
)


def thread_waiting_release(*, tenant_id: int, thread_id: str, resource_id: str) -> list[str]:
    """A new user message arrived on this thread: decline every call still waiting there (reason
    "superseded by a new message") and end those runs, so the conversation is never blocked.
    Returns the ended runs' ids (none, nearly always: one indexed query)."""
    with connection.cursor() as cursor:  # a static statement: the ORM's compiling it was most of the cost
        cursor.execute(_WAITING_ON_THREAD, [tenant_id, ToolCallGate.Status.PENDING, thread_id, resource_id])
        run_ids = [row[0] for row in cursor.fetchall()]
    ended = []
    for run_id in run_ids:
        with transaction.atomic():
            run = Run.objects.select_for_update().select_related("agent").filter(id=run_id).first()
            if run is None or run.status != Run.Status.SUSPENDED:
                continue
            run_end_waiting(
                run=run,
                gate_status=ToolCallGate.Status.DECLINED,
                reason="superseded by a new message",
                code="run_superseded",
                message="A new message on the thread declined the calls this run waited on.",
            )
            ended.append(str(run_id))
    return ended
