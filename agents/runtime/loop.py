"""The one run loop, as a step machine without I/O, driven by `run_sync` and `run_events`.

`run_loop(setup)` is a generator: it yields what it needs done (`CallModel`, `RunTools`,
`Suspend`, `Checkpoint`) and the events a stream shows (`Emit`), and receives each
answer through `send`. The sync driver (`generate`) performs the operations with
blocking calls and drops the events; the async driver (`agenerate`, `stream`) awaits
them and yields the events. So both follow the same steps, gates and stops.

A step: the model answers; its tool calls are validated; calls that need a person's
approval (the tool's rule, the agent's "require approval", the run's
`require_tool_approval`) are held, the others run; a tool may suspend itself
(`ctx.suspend`). While any call of the step waits, the run suspends (`Suspend`: the
driver persists the state and the gates before the approval request or suspension
events leave) and the loop ends. A continuation starts with the stored step: declined
calls go back to the model as refusals, approved and resumed ones run (never one whose
outcome is recorded), and the loop goes on.
"""

from __future__ import annotations

import uuid
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Literal

from agents.providers.openai_client import ModelResponse
from agents.runtime import events as ev
from agents.runtime.setup import RunSetup
from agents.runtime.state import StepCall
from agents.runtime.turn import PreparedCall, ToolOutcome
from agents.runtime.types import DECLINED_PREFIX

Status = Literal["completed", "suspended"]
DECLINED = frozenset({"declined", "expired", "cancelled"})


@dataclass(frozen=True, slots=True)
class CallModel:
    request: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RunTools:
    calls: list[PreparedCall]
    resume: dict[str, Any]  # tool call id -> resume data, for calls resumed after a suspension


@dataclass(frozen=True, slots=True)
class Emit:
    event: ev.Event


@dataclass(frozen=True, slots=True)
class Suspend:
    """Persist the suspended run (state, gates, trace) before anything else is emitted."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Write the state at a step boundary: `durable`, committed before the loop goes on; else
    queued behind. (A continuation needs no durable one: its gates are decided and the run is
    claimed once, so a call that ran after a decision never runs again whatever fails next.)"""

    durable: bool


Op = CallModel | RunTools | Emit | Suspend | Checkpoint
Loop = Generator[Op, Any, Status]


def tool_input_event(call: PreparedCall) -> ev.Event:
    if call.input is None and call.definition is not None:
        return ev.ToolInputError(
            tool_call_id=call.id, tool_name=call.name, input=call.arguments, error_text=call.error or ""
        )
    return ev.ToolInputAvailable(tool_call_id=call.id, tool_name=call.name, input=call.input)


def gate_kind(setup: RunSetup, call: PreparedCall) -> str | None:
    """ "approval" when this valid call must wait for a person; None when it runs (or is refused) now."""
    definition = call.definition
    if definition is None or call.error is not None or call.args is None:
        return None
    if setup.turn.options.require_tool_approval or setup.spec.require_approval:
        return "approval"
    if definition.id in setup.spec.approval_tools:  # the admin switch, whatever name the model sees
        return "approval"
    return "approval" if definition.approval_needed(call.args, setup.context) else None


def refusal(call: StepCall, decision_status: str, reason: str) -> str:
    why = (
        "it expired before anyone decided"
        if decision_status == "expired"
        else f"reason: {reason or 'none given'}"
    )
    if decision_status == "cancelled":
        why = reason or "the run was cancelled"
    return f"{DECLINED_PREFIX} {call.name!r} was not run ({why}). Do not retry it unasked."


def suspension_event(setup: RunSetup, call: StepCall) -> ev.Event:
    definition = setup.turn.tools.get(call.name)
    schema = definition.resume_schema.model_json_schema() if definition and definition.resume_schema else None
    return ev.Data(
        name="tool-suspended",
        id=call.id,
        data={
            "runId": str(setup.run_id),
            "toolCallId": call.id,
            "toolName": call.name,
            "suspendPayload": call.suspend_payload,
            "resumeSchema": schema,
        },
    )


def run_loop(setup: RunSetup) -> Loop:
    turn = setup.turn
    if setup.step_calls:  # a continuation: the stored step goes on first
        status = yield from _tool_phase(setup)
        if status == "suspended":
            return status
        yield Checkpoint(durable=False)
        yield Emit(ev.FinishStep())
    while not turn.done:
        yield Emit(ev.StartStep())
        response: ModelResponse = yield CallModel(turn.request())
        prepared = turn.on_response(response)
        for call in prepared:
            yield Emit(tool_input_event(call))
        if prepared:
            setup.step_calls = [StepCall.of(call, gate=gate_kind(setup, call)) for call in prepared]
            setup.decisions = {}
            status = yield from _tool_phase(setup, {call.id: call for call in prepared})
            if status == "suspended":
                return status
            if not turn.done:
                yield Checkpoint(durable=False)
        yield Emit(ev.FinishStep())
    return "completed"


def _tool_phase(
    setup: RunSetup, fresh: dict[str, PreparedCall] | None = None
) -> Generator[Op, Any, Status | None]:
    """Run what may run of the step; suspend while any call waits; else feed the outcomes back."""
    calls = setup.step_calls
    runnable, resume, denied = _ready(setup)
    for call in denied:
        yield Emit(ev.ToolOutputDenied(tool_call_id=call.id))
    if runnable:
        prepared = [(fresh or {}).get(call.id) or _prepared(setup, call) for call in runnable]
        outcomes: list[ToolOutcome] = yield RunTools(prepared, resume)
        for call, outcome in zip(runnable, outcomes, strict=True):
            event = _record(setup, call, outcome)
            if event is not None:
                yield Emit(event)
    waiting = [call for call in calls if not call.done]
    if waiting:
        yield Suspend()
        for call in waiting:
            yield Emit(_waiting_event(setup, call))
        yield Emit(ev.FinishStep())
        return "suspended"
    setup.turn.on_tool_results([call.outcome() for call in calls])
    setup.step_calls, setup.decisions = [], {}
    return None


def _waiting_event(setup: RunSetup, call: StepCall) -> ev.Event:
    if call.gate == "suspension":
        return suspension_event(setup, call)
    return ev.ToolApprovalRequest(approval_id=call.gate_id or call.id, tool_call_id=call.id)


def _ready(setup: RunSetup) -> tuple[list[StepCall], dict[str, Any], list[StepCall]]:
    """The step's calls that run now, the resume data of resumed ones, and those declined now."""
    runnable: list[StepCall] = []
    resume: dict[str, Any] = {}
    denied: list[StepCall] = []
    for call in setup.step_calls:
        if call.done:
            continue
        decision = setup.decisions.get(call.id) if call.gate is not None else None
        if call.gate is None or (decision is not None and decision.status == "approved"):
            runnable.append(call)
        elif decision is None:
            continue  # still waiting
        elif decision.status in DECLINED:
            call.deny(refusal(call, decision.status, decision.reason))
            denied.append(call)
        elif decision.status == "resumed":
            resume[call.id] = decision.resume_data
            runnable.append(call)
    return runnable, resume, denied


def _record(setup: RunSetup, call: StepCall, outcome: ToolOutcome) -> ev.Event | None:
    """Record a call's outcome (or its suspension); the event that shows it, if any."""
    if outcome.suspended is not None:
        call.gate, call.suspend_payload = "suspension", outcome.suspended
        call.gate_id = call.gate_id or str(uuid.uuid4())  # a gate suspended again keeps its id
        setup.decisions.pop(call.id, None)
        return None
    call.record(outcome)
    if outcome.error is None:
        return ev.ToolOutputAvailable(tool_call_id=call.id, output=outcome.output)
    return ev.ToolOutputError(tool_call_id=call.id, error_text=outcome.error)


def _prepared(setup: RunSetup, call: StepCall) -> PreparedCall:
    """The call ready to run: validated again from its stored arguments (after a restart the
    validated model is not in memory)."""
    prepared = setup.turn.prepare_again(call.id, call.name, call.arguments)
    if call.error is not None and prepared.error is None:
        prepared.error = call.error
    return prepared
