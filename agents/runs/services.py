"""Deciding, resuming, continuing and cancelling stored runs. The contract:

A run that reaches a tool call needing approval (the tool's `needs_approval` rule, the
agent's "require approval", the request's `requireToolApproval`), or whose tool calls
`ctx.suspend(payload)`, is stored with status `suspended`: its state in `Run.state`, one
`ToolCallGate` per waiting call (kind `approval` or `suspension`, status `pending`).
Streams show `tool-approval-request` (`approvalId` = the gate's id, `toolCallId`) or a
`data-tool-suspended` part; `generate` returns `status`/`finishReason` "suspended" and
`pendingToolCalls`.

Writes (keyword-only; every one checks the owner model first: the run's owner or a tenant
admin, anyone else gets `NotFound`, exactly as for a run that does not exist):

- `tool_call_decide(actor=, agent_id=, run_id=, tool_call_id=, approve=, reason="") -> Decision`
  approves or declines one waiting approval. `NotFound` for an unknown run or call;
  `AlreadyDecided` (409, `details.decision` = the earlier decision) when it was decided
  before; `ValidationFailed` (400) for a suspension (resume it instead). Concurrent
  decisions serialise on the run's row lock: exactly one wins.
- `tool_call_resume(actor=, agent_id=, run_id=, tool_call_id=, resume_data=) -> Decision`
  gives a suspended call its resume data, validated against the tool's `resume_schema`
  (`ValidationFailed` with `resumeData.<field>` errors; the run stays suspended).
- `Decision.ready` is True for the one decision that leaves no call of the run waiting: that
  caller has claimed the run (status back to `running`) and must continue it with
  `run_continue_events(decision=)` (async events, for SSE and WebSocket) or
  `run_continue_result(decision=)` (a `RunResult`, for JSON). When other calls still wait,
  both return the run as still suspended, without calling anything.
  The continuation runs wherever it is called: it reads everything from PostgreSQL.
  A provider failure while continuing fails the run (its error, e.g. 502, stored on it);
  the decision stays stored, tool outcomes recorded before are never run again.
- `run_cancel(actor=, run_id=) -> Run` cancels a suspended run (waiting calls `cancelled`)
  or stops a running one in whichever process runs it (at its next step boundary or
  stream chunk; its stream ends with `abort`); `Conflict` when it has already ended.
- `gates_expire()` (beat): waiting approvals past `expires_at` become `expired` (declined,
  reason "expired") and their runs end `cancelled`. `runs_sweep_interrupted()` (beat):
  runs `running` past `RUN_INTERRUPTED_AFTER_S` without a checkpoint become `interrupted`.
- A new user message on a thread declines the calls still waiting there first
  (`agents.runtime.resume.thread_waiting_release`, from the runtime's setup).

Reads: `agents.runs.selectors` (`runs_suspended`, `gates_pending`, `gate_dict`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from pydantic import ValidationError

from agents.models import Run, ToolCallGate
from agents.runs.external import external_of
from agents.runs.selectors import gate_dict, run_owned
from agents.runtime import events as ev
from agents.runtime.cancel import cancel_signal
from agents.runtime.drivers import run_events
from agents.runtime.resume import continuation_setup, run_end_waiting
from agents.runtime.setup import RunSetup, allowed_tools
from agents.runtime.spec import agent_spec_load
from agents.runtime.types import RunResult, Usage
from agents.tools.registry import ToolDefinition, registry
from core.access import Actor
from core.db import db_to_async
from core.errors import Conflict, NotFound, PlatformError, ValidationFailed


class AlreadyDecided(Conflict):
    code = "already_decided"
    default_message = "This tool call was already decided."


class RunNotActive(Conflict):
    code = "run_not_active"
    default_message = "The run has already ended."


@dataclass(kw_only=True, slots=True)
class Decision:
    """A stored decision; `ready`: this caller claimed the run and continues it (`setup`, the
    continuation prepared from what the decision read, saves reading it again)."""

    run_id: uuid.UUID
    gate: dict[str, Any]
    ready: bool
    setup: RunSetup | None = field(default=None, repr=False, compare=False)


def tool_call_decide(
    *,
    actor: Actor,
    agent_id: str,
    run_id: uuid.UUID | str,
    tool_call_id: str,
    approve: bool,
    reason: str = "",
) -> Decision:
    """Approve or decline one waiting tool call (see the module docstring)."""
    status = ToolCallGate.Status.APPROVED if approve else ToolCallGate.Status.DECLINED
    return _decide(
        actor=actor,
        agent_id=agent_id,
        run_id=run_id,
        tool_call_id=tool_call_id,
        kind=ToolCallGate.Kind.APPROVAL,
        status=status,
        reason=reason,
        resume_data=None,
    )


def tool_call_resume(
    *, actor: Actor, agent_id: str, run_id: uuid.UUID | str, tool_call_id: str, resume_data: Any
) -> Decision:
    """Give a suspended tool call its resume data (validated against the tool's resume schema)."""
    return _decide(
        actor=actor,
        agent_id=agent_id,
        run_id=run_id,
        tool_call_id=tool_call_id,
        kind=ToolCallGate.Kind.SUSPENSION,
        status=ToolCallGate.Status.RESUMED,
        reason="",
        resume_data=resume_data,
    )


def gated_tool(*, run: Run, tool_name: str) -> ToolDefinition | None:
    """The tool a gate of `run` waits on, by the name the model saw: the agent's toolkits may
    have renamed or prefixed it (`allowed_tools`), so the registry's ids are the fallback only."""
    try:
        tools = allowed_tools(agent_spec_load(slug=run.agent.slug, tenant_id=run.tenant_id))
    except PlatformError:  # the agent was disabled or removed meanwhile: its continuation fails later
        tools = {}
    return tools.get(tool_name) or registry.get(tool_name)


def resume_data_validate(*, definition: ToolDefinition | None, resume_data: Any) -> Any:
    """The resume data as JSON after the tool's `resume_schema`; `ValidationFailed` naming each field."""
    schema = definition.resume_schema if definition is not None else None
    if schema is None:
        return resume_data
    try:
        return schema.model_validate(resume_data).model_dump(mode="json")
    except ValidationError as error:
        details: dict[str, list[str]] = {}
        for problem in error.errors():
            key = ".".join(str(p) for p in problem["loc"])
            details.setdefault(f"resumeData.{key}" if key else "resumeData", []).append(problem["msg"])
        raise ValidationFailed(
            "The resume data does not match the tool's resume schema.", details=details
        ) from error


def _decide(
    *,
    actor: Actor,
    agent_id: str,
    run_id: uuid.UUID | str,
    tool_call_id: str,
    kind: str,
    status: str,
    reason: str,
    resume_data: Any,
) -> Decision:
    now = datetime.now(UTC)
    outermost = not connection.in_atomic_block  # then the decision's statement also commits
    with transaction.atomic():
        gates = _gates_locked(actor=actor, agent_id=agent_id, run_id=run_id)
        if not gates:  # no such run, not the actor's, or one that never waited: alike
            raise NotFound("Run not found.", details={"runId": [str(run_id)]})
        run = gates[0].run
        gate = next((g for g in gates if g.tool_call_id == tool_call_id), None)
        if gate is None:
            raise NotFound("No such tool call on this run.", details={"toolCallId": [tool_call_id]})
        if gate.status != ToolCallGate.Status.PENDING:
            raise AlreadyDecided(
                f"This tool call was already {gate.status}.", details={"decision": gate_dict(gate)}
            )
        if gate.kind != kind:
            what = (
                "resume it with resume data"
                if gate.kind == ToolCallGate.Kind.SUSPENSION
                else "approve or decline it"
            )
            raise ValidationFailed(
                f"This tool call is a pending {gate.kind}: {what}.",
                details={"toolCallId": [f"A {gate.kind}."]},
            )
        expired = gate.expires_at is not None and gate.expires_at <= now
        if expired:
            run_end_waiting(
                run=run,
                gate_status=ToolCallGate.Status.EXPIRED,
                reason="expired",
                code="approval_expired",
                message="The run waited for a decision longer than allowed and was ended.",
            )
            gate.refresh_from_db()
        else:
            if kind == ToolCallGate.Kind.SUSPENSION:
                definition = gated_tool(run=run, tool_name=gate.tool_name)
                resume_data = resume_data_validate(definition=definition, resume_data=resume_data)
            gate.status, gate.reason, gate.resume_data = status, reason, resume_data
            gate.decided_by_id, gate.decided_at = actor.user_id, now
            waiting = any(g.is_pending for g in gates if g is not gate)
            external = external_of(run)
            ready = not waiting and run.status == Run.Status.SUSPENDED and external is None
            # Another engine writes in this transaction after the decision: then no early COMMIT.
            _decision_store(gate=gate, claim=ready, now=now, commit=outermost and external is None)
            if external is not None:  # another engine's wait (a workflow's approval step)
                external.decided(run, gate, actor.user_id)
    if expired:
        raise AlreadyDecided(
            "This tool call expired before it was decided.", details={"decision": gate_dict(gate)}
        )
    decision = Decision(run_id=run.id, gate=gate_dict(gate), ready=ready)
    if ready:
        run.status = Run.Status.RUNNING
        try:
            decision.setup = continuation_setup(run=run, gates=gates)
        except Exception:
            _claim_failed(run.id)
            raise
    return decision


def _gates_locked(*, actor: Actor, agent_id: str, run_id: uuid.UUID | str) -> list[ToolCallGate]:
    """The run's gates with the run (and its agent), the rows locked: one query. The lock
    serialises deciders of one run, so what is read here is what the decision applies to."""
    try:
        uuid.UUID(str(run_id))
    except ValueError:
        return []
    queryset = ToolCallGate.objects.select_related("run__agent").filter(
        run_id=run_id, run__agent__slug=agent_id, run__tenant_id=actor.tenant_id
    )
    if not actor.is_tenant_admin:
        if actor.user_id is None:
            return []
        queryset = queryset.filter(run__user_id=actor.user_id)
    # Both locked: a decider that waited for the lock then reads the gates as committed by the
    # one before it (PostgreSQL re-reads locked rows only, not the rows joined to them).
    return list(queryset.select_for_update(of=("self", "run")).order_by("created_at"))


_GATE = ToolCallGate._meta.db_table
_RUN = Run._meta.db_table
_DECISION_SQL = f"""WITH decided AS (
    UPDATE {_GATE} SET status = %s, reason = %s, resume_data = %s::jsonb, decided_by_id = %s, decided_at = %s
    WHERE id = %s AND status = 'pending' RETURNING run_id)
UPDATE {_RUN} SET status = 'running', checkpoint_at = %s
WHERE %s AND id IN (SELECT run_id FROM decided)"""  # noqa: S608 - table names from model metadata


def _decision_store(*, gate: ToolCallGate, claim: bool, now: datetime, commit: bool) -> None:
    """The decision and, for the last waiting call, the run's claim: one statement; with `commit`
    (the transaction is this decision's own), its COMMIT in the same round trip (the atomic
    block's own commit then finds nothing to commit)."""
    resume = None if gate.resume_data is None else json.dumps(gate.resume_data)
    params = [gate.status, gate.reason, resume, gate.decided_by_id, now, gate.id, now, claim]
    with connection.cursor() as cursor:
        cursor.execute(f"{_DECISION_SQL};\nCOMMIT" if commit else _DECISION_SQL, params)


def _continuation(decision: Decision) -> RunSetup:
    """The continuation of a claimed run, read back (for a decision made without it)."""
    run = Run.objects.select_related("agent").get(id=decision.run_id)
    try:
        return continuation_setup(run=run, gates=list(ToolCallGate.objects.filter(run=run)))
    except Exception:
        _claim_failed(run.id)
        raise


# Shows a continued run on its chat thread (every tab open there) while the events go on to
# whoever continues it: the REST routes, the admin's worker task. The chat app registers it
# (`thread_publisher_register`); without one, a continuation is seen only by its caller.
ThreadPublisher = Callable[[RunSetup, AsyncIterator[ev.Event]], AsyncIterator[ev.Event]]
_thread_publisher: ThreadPublisher | None = None


def thread_publisher_register(publisher: ThreadPublisher | None) -> None:
    global _thread_publisher
    _thread_publisher = publisher


def _publishable(setup: RunSetup) -> bool:
    """Whether a publisher shows this run's continuation: a run of a user's thread."""
    return _thread_publisher is not None and bool(setup.thread_id) and setup.context.user_id is not None


def _shown_on_thread(
    setup: RunSetup, events: AsyncIterator[ev.Event], *, published: bool
) -> AsyncIterator[ev.Event]:
    if published or _thread_publisher is None or not _publishable(setup):
        return events
    return _thread_publisher(setup, events)


async def run_continue_events(
    *, decision: Decision, published: bool = False
) -> AsyncGenerator[ev.Event, None]:
    """The continued run as stream events (`start` ... `finish`); only the still-suspended run's
    `start` and `finish` when `decision.ready` is False. `published`: the caller shows the
    events on the run's thread itself (the chat app's own continuations)."""
    if not decision.ready:
        result = await db_to_async(_stored_result)(decision.run_id)
        yield ev.Start(
            message_id=result.run_id, metadata={"runId": result.run_id, "agentId": result.agent_id}
        )
        yield ev.Finish(
            finish_reason="tool-calls",
            metadata={
                "runId": result.run_id,
                "status": "suspended",
                "finishReason": "suspended",
                "pendingToolCalls": result.pending_tool_calls,
            },
        )
        return
    setup = decision.setup or await db_to_async(_continuation)(decision)
    async for event in _shown_on_thread(setup, run_events(setup, streaming=True), published=published):
        yield event


async def run_continue_result(*, decision: Decision) -> RunResult:
    """The continued run to its end (or its next suspension), as `generate` returns it."""
    if not decision.ready:
        return await db_to_async(_stored_result)(decision.run_id)
    setup = decision.setup or await db_to_async(_continuation)(decision)
    # Streamed where a thread's tabs are shown it, as a chat's own continuation is.
    shown = _publishable(setup)
    async for _event in _shown_on_thread(setup, run_events(setup, streaming=shown), published=False):
        pass
    if setup.error is not None:
        raise setup.error
    assert setup.result is not None  # noqa: S101 - set by run_events when no error was raised
    return setup.result


def _claim_failed(run_id: uuid.UUID) -> None:
    """The continuation could not even start (the agent was disabled, its routes switched off):
    the run fails clearly rather than staying `running`."""
    Run.objects.filter(id=run_id, status=Run.Status.RUNNING).update(
        status=Run.Status.FAILED,
        error={"code": "continuation_failed", "message": "The run could not be continued.", "status": 409},
    )


def _stored_result(run_id: uuid.UUID) -> RunResult:
    run = Run.objects.select_related("agent").get(id=run_id)
    stored = run.result or {}
    usage = stored.get("usage") or {}
    waiting = [gate_dict(g) for g in ToolCallGate.objects.filter(run=run, status=ToolCallGate.Status.PENDING)]
    return RunResult(
        run_id=str(run.id),
        trace_id=str(run.trace_id or ""),
        agent_id=run.agent.slug,
        agent_version=run.agent_version,
        status=run.status,
        text=stored.get("text", ""),
        tool_calls=stored.get("toolCalls", []),
        tool_results=stored.get("toolResults", []),
        usage=Usage(usage.get("promptTokens", 0), usage.get("completionTokens", 0)),
        finish_reason="suspended"
        if run.status == Run.Status.SUSPENDED
        else stored.get("finishReason", "stop"),
        steps=run.steps,
        model=run.model,
        pending_tool_calls=waiting,
    )


def run_cancel(*, actor: Actor, run_id: uuid.UUID | str) -> Run:
    """Cancel a run: a suspended one ends now (its waiting calls `cancelled`, its turn written to
    memory); a running one is marked `cancelled` and the process that runs it, wherever it is,
    stops it at its next step boundary or between two chunks of its stream
    (`agents.runtime.cancel`). `RunNotActive` (409) when it has already ended."""
    with transaction.atomic():
        run = run_owned(actor=actor, run_id=run_id).select_for_update(of=("self",)).first()
        if run is None:
            raise NotFound("Run not found.", details={"runId": [str(run_id)]})
        if run.status == Run.Status.SUSPENDED:
            run_end_waiting(
                run=run,
                gate_status=ToolCallGate.Status.CANCELLED,
                reason="the run was cancelled",
                code="run_cancelled",
                message="The run was cancelled.",
                decided_by=actor.user_id,
            )
        elif run.status == Run.Status.RUNNING:
            run.status = Run.Status.CANCELLED
            run.error = {"code": "run_cancelled", "message": "The run was cancelled.", "status": 409}
            run.save(update_fields=["status", "error"])
            # Whichever process runs it stops at its next step boundary or stream chunk.
            run_id_text = str(run.id)
            transaction.on_commit(lambda: cancel_signal(run_id=run_id_text))
        else:
            raise RunNotActive(f"The run has already ended ({run.status}).", details={"status": run.status})
    return run


def gates_expire(*, now: datetime | None = None) -> int:
    """End runs whose approvals waited past `expires_at` (declined, reason "expired"); the count."""
    now = now or datetime.now(UTC)
    run_ids = set(
        ToolCallGate.objects.filter(status=ToolCallGate.Status.PENDING, expires_at__lte=now).values_list(
            "run_id", flat=True
        )
    )
    ended = 0
    for run_id in run_ids:
        with transaction.atomic():
            run = Run.objects.select_for_update().filter(id=run_id, status=Run.Status.SUSPENDED).first()
            if run is None:
                continue
            run_end_waiting(
                run=run,
                gate_status=ToolCallGate.Status.EXPIRED,
                reason="expired",
                code="approval_expired",
                message="The run waited for a decision longer than allowed and was ended.",
            )
            ended += 1
    return ended


def runs_sweep_interrupted(*, now: datetime | None = None) -> int:
    """Mark runs left `running` by a process that died (no checkpoint for `RUN_INTERRUPTED_AFTER_S`)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=float(settings.RUN_INTERRUPTED_AFTER_S))
    stale = Run.objects.filter(status=Run.Status.RUNNING, created_at__lt=cutoff).exclude(
        checkpoint_at__gte=cutoff
    )
    return stale.update(
        status=Run.Status.INTERRUPTED,
        error={
            "code": "run_interrupted",
            "message": "The run's process stopped before it finished; it was marked by the sweeper.",
            "status": 500,
        },
    )
