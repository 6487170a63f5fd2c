"""The run state written to the run's row: at step boundaries, when it suspends, when it ends."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings

from agents.models import Run, ToolCallGate
from agents.runtime.memory_hooks import MemorySession
from agents.runtime.persistence import QueuedWrites, _run_insert, _run_update, _upsert
from agents.runtime.setup import RunSetup
from agents.runtime.state import RunState, StepCall, args_hash
from agents.runtime.turn import options_state
from agents.runtime.types import RunResult
from core.db import Statement, execute_batch, fast_commit
from memory.config import MemoryConfig
from observability.redaction import redact


def state_of(setup: RunSetup) -> RunState:
    turn = setup.turn
    session = setup.memory_session
    return RunState(
        messages=turn.messages,
        step=turn.step,
        usage={"prompt": turn.usage.prompt_tokens, "completion": turn.usage.completion_tokens},
        text=turn.text,
        finish_reason=turn.finish_reason,
        tool_calls=turn.tool_calls,
        tool_results=turn.tool_results,
        invalid_calls=turn.invalid_calls,
        chain=[ref.id for ref in setup.chain],
        chain_position=setup.chain_position,
        options=options_state(turn.options),
        step_calls=[call.as_dict() for call in setup.step_calls],
        memory=_session_state(session) if session is not None else None,
        thread_id=setup.thread_id,
    )


def _session_state(session: MemorySession) -> dict[str, Any]:
    return {
        "tenant_id": session.tenant_id,
        "thread_id": session.thread_id,
        "resource_id": session.resource_id,
        "config": session.config.model_dump(mode="json"),
        "first_message_index": session.first_message_index,
        "unembedded": list(session.unembedded),
    }


def session_from_state(data: dict[str, Any] | None) -> MemorySession | None:
    if not data:
        return None
    return MemorySession(
        tenant_id=data["tenant_id"],
        thread_id=data["thread_id"],
        resource_id=data["resource_id"],
        config=MemoryConfig.model_validate(data["config"]),
        first_message_index=data["first_message_index"],
        unembedded=tuple(data.get("unembedded") or ()),
    )


def _state_json(setup: RunSetup) -> Any:
    return redact(state_of(setup).as_dict())


def checkpoint_statement(setup: RunSetup) -> Statement:
    """The state of a running run, written only while it is still running (a late write never
    overwrites its outcome)."""
    sql = (
        f"UPDATE {Run._meta.db_table} SET state = %s::jsonb, checkpoint_at = %s "  # noqa: S608 - model metadata
        "WHERE id = %s AND status = 'running'"
    )
    return sql, [json.dumps(_state_json(setup), default=str), datetime.now(UTC), setup.run_id]


def run_checkpoint(setup: RunSetup, *, durable: bool, asynchronous: bool = False) -> None:
    """Write the state at a step boundary: committed now (`durable`), or queued to the run-record
    writer behind the run's row (`setup.writes`), committed while the next model call is in
    flight; the driver settles it before that call's answer is used."""
    if not setup.inserted and setup.writes is None:
        return  # nothing to update (a run whose row is written only with its outcome)
    statement = checkpoint_statement(setup)
    if durable:
        execute_batch([statement])
        return
    if setup.writes is None:
        setup.writes = QueuedWrites(asynchronous=asynchronous)
    setup.writes.submit([statement])


def pending_calls(setup: RunSetup) -> list[dict[str, Any]]:
    """The calls a suspended run waits on, as `generate` returns them."""
    expires = _expires_at()
    waiting = []
    for call in setup.step_calls:
        if call.done:
            continue
        item: dict[str, Any] = {
            "approvalId": call.gate_id,
            "toolCallId": call.id,
            "toolName": call.name,
            "input": call.input,
            "kind": call.gate,
        }
        if call.gate == "suspension":
            definition = setup.turn.tools.get(call.name)
            item["suspendPayload"] = call.suspend_payload
            item["resumeSchema"] = (
                definition.resume_schema.model_json_schema()
                if definition and definition.resume_schema
                else None
            )
        elif expires is not None:
            item["expiresAt"] = expires.isoformat()
        waiting.append(item)
    return waiting


def _expires_at() -> datetime | None:
    ttl = float(getattr(settings, "APPROVAL_TTL_S", 0) or 0)
    return datetime.now(UTC) + timedelta(seconds=ttl) if ttl > 0 else None


def run_suspend(setup: RunSetup, result: RunResult) -> None:
    """Persist a suspended run: its row (state, partial result), a gate per waiting call, and the
    trace, in one transaction, committed before the approval request or suspension leaves."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "status": Run.Status.SUSPENDED,
        "state": _state_json(setup),
        "checkpoint_at": now,
        "result": redact(result.as_dict()),
        "usage": result.usage.as_dict(),
        "steps": result.steps,
        "model": result.model,
        "duration_ms": (now - setup.started_at).total_seconds() * 1000,
    }
    if setup.inserted:
        statement = _run_update(setup.run_id, fields)
    else:
        row = setup.record.row(idempotency_key=setup.turn.options.idempotency_key)
        statement = _run_insert({**row, **fields}, on_conflict=_upsert(fields))
    expires = _expires_at()
    gates = [_gate(setup, call, expires) for call in setup.step_calls if not call.done]
    for call in setup.step_calls:
        if not call.done:
            setup.trace.start_span(
                f"{call.gate}.requested",
                kind="approval",
                tool_name=call.name,
                tool_call_id=call.id,
                gate_id=call.gate_id,
                kind_of_gate=call.gate,
            ).end()
    with fast_commit():
        execute_batch([statement])
        ToolCallGate.objects.bulk_create(
            gates,
            update_conflicts=True,
            unique_fields=["run", "tool_call_id"],
            update_fields=[
                "status",
                "suspend_payload",
                "resume_schema",
                "resume_data",
                "decided_at",
                "reason",
            ],
        )
        setup.trace.flush()
    setup.inserted = True


def _gate(setup: RunSetup, call: StepCall, expires: datetime | None) -> ToolCallGate:
    definition = setup.turn.tools.get(call.name)
    suspension = call.gate == "suspension"
    return ToolCallGate(
        id=call.gate_id,
        tenant_id=setup.context.tenant_id,
        owner_id=setup.context.user_id,
        run_id=setup.run_id,
        tool_call_id=call.id,
        tool_name=call.name,
        kind=ToolCallGate.Kind.SUSPENSION if suspension else ToolCallGate.Kind.APPROVAL,
        status=ToolCallGate.Status.PENDING,
        input=redact(call.input) if isinstance(call.input, dict) else {"value": call.input},
        args_hash=args_hash(call.arguments),
        step=setup.turn.step,
        suspend_payload=redact(call.suspend_payload) if suspension else None,
        resume_schema=(
            definition.resume_schema.model_json_schema()
            if suspension and definition is not None and definition.resume_schema is not None
            else None
        ),
        resume_data=None,
        decided_at=None,
        reason="",
        expires_at=None if suspension else expires,
    )


def suspended_result(result: RunResult, setup: RunSetup) -> RunResult:
    return replace(
        result, status="suspended", finish_reason="suspended", pending_tool_calls=pending_calls(setup)
    )
