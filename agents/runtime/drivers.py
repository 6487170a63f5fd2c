"""The two drivers of the one run loop (`agents.runtime.loop`): blocking (`generate`) and
asynchronous (`agenerate`, `stream`).

Both take a `RunSetup`, perform what the loop asks (model calls, tools, checkpoints,
suspension) and leave the run and its trace persisted whatever happens: completed,
suspended with its state and gates, failed with its error, or aborted with the partial
answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections

from agents.providers import calls
from agents.runtime import events as ev
from agents.runtime.cancel import CANCELLED_REASON, cancel_requested, cancel_unwatch, cancel_watch
from agents.runtime.checkpoint import run_checkpoint, run_suspend, state_of, suspended_result
from agents.runtime.loop import CallModel, Checkpoint, Emit, Op, RunTools, Suspend, run_loop
from agents.runtime.persistence import (
    MemoryWrite,
    Outcome,
    Replay,
    run_begin,
    run_begin_on_loop,
    run_finish,
    run_finish_committed,
    run_start_queue,
    writes_behind,
)
from agents.runtime.setup import RunSetup
from agents.runtime.step_events import StepEvents, replay_events, suspended_finish
from agents.runtime.tool_exec import execute_many_async, execute_many_sync
from agents.runtime.types import RunResult
from core.db import db_to_async
from core.errors import PlatformError

logger = logging.getLogger(__name__)


class InternalRunError(PlatformError):
    code = "internal_error"
    status = 500
    default_message = "The run failed because of an internal error; it was recorded."


class RunCancelled(PlatformError):
    """The run was cancelled while it executed (`agents.runtime.cancel`); it stopped at a step
    boundary or between two chunks of a streamed answer."""

    code = "run_cancelled"
    status = 409
    default_message = CANCELLED_REASON


def _stop_if_cancelled(setup: RunSetup, op: Op) -> None:
    """Before a model call or a batch of tools: stop a run that was cancelled meanwhile."""
    if isinstance(op, CallModel | RunTools) and setup.watched and cancel_requested(setup.watched):
        raise RunCancelled()


def _result(setup: RunSetup, *, status: str, partial_text: str = "") -> RunResult:
    turn = setup.turn
    return RunResult(
        run_id=str(setup.run_id),
        trace_id=str(setup.trace.id),
        agent_id=setup.spec.slug,
        agent_version=setup.spec.version,
        status=status,
        text=turn.text or partial_text,
        tool_calls=turn.tool_calls,
        tool_results=turn.tool_results,
        usage=turn.usage,
        finish_reason=turn.finish_reason,
        steps=turn.step,
        model=setup.model,
        object=turn.structured,
    )


def _close_run_span(setup: RunSetup, result: RunResult | None, error: BaseException | None) -> None:
    span = setup.run_span
    if result is not None:
        span.set(
            status=result.status,
            steps=result.steps,
            finish_reason=result.finish_reason,
            input_tokens=result.usage.prompt_tokens,
            output_tokens=result.usage.completion_tokens,
        )
    if error is not None:
        span.record_error(error)
    span.end()


def _outcome(setup: RunSetup, result: RunResult | None, error: PlatformError | None, status: str) -> Outcome:
    _close_run_span(setup, result, error)
    return Outcome(
        record=setup.record,
        inserted=setup.inserted,
        status=status,
        result=result,
        error=error,
        memory=MemoryWrite(session=setup.memory_session, messages=setup.turn.messages)
        if setup.memory_session is not None
        else None,
        behind=writes_behind(memory=setup.memory_session is not None, streaming=setup.streaming),
        # A continued run leaves its final state (the step it stopped at is over).
        state=state_of(setup).as_dict() if setup.resumed else None,
    )


def _replayed(replay: Replay) -> RunResult:
    if replay.error is not None:
        raise replay.error
    assert replay.result is not None  # noqa: S101 - a replay holds a result or an error
    return replay.result


def _inserted_at_start(setup: RunSetup) -> bool:
    """Whether the run's row is inserted, and committed, before the model is called.

    A stream hands its run id to the client in its first event, and an idempotency key
    must be claimed before the work it guards: their row is committed first. Inside a
    caller's transaction the row joins it. Every other run sends its row (`_queue_start`)
    and calls the model at once: the row is committed while the model works.
    """
    return (
        setup.streaming or bool(setup.turn.options.idempotency_key) or connections["default"].in_atomic_block
    )


def _queue_start(setup: RunSetup, *, asynchronous: bool) -> None:
    """Send the run's row (running): to the run-record writer from an event loop, on the
    thread's own connection from a blocking run; `_settle` confirms it. A keyed
    run is never queued: its key is claimed before it starts (`_inserted_at_start`)."""
    setup.writes = run_start_queue(setup.record, asynchronous=asynchronous)


def _settle_sync(setup: RunSetup) -> None:
    """Before a model call's answer is used, and before the thread's connection is used again:
    the run's row and checkpoints sent meanwhile are committed."""
    writes = setup.writes
    if writes is not None and writes.pending:
        writes.settle_sync()
        setup.inserted = setup.inserted or writes.row_committed


def _finish_failed(setup: RunSetup, error: PlatformError, status: str) -> None:
    """Write the outcome of a blocking run that stopped with `error`: what it had sent is read
    first (refused or not: the outcome is then an upsert of the whole row)."""
    setup.error = error
    try:
        _settle_sync(setup)
    except DatabaseError:
        logger.warning("run %s: a write sent before it failed was refused", setup.run_id)
    run_finish(_outcome(setup, _result(setup, status=status), error, status))


async def _settle(setup: RunSetup) -> None:
    """`_settle_sync` on the event loop (the writes were queued from it)."""
    writes = setup.writes
    if writes is not None and writes.pending:
        await writes.settle()
        setup.inserted = setup.inserted or writes.row_committed


def _suspended(setup: RunSetup) -> RunResult:
    """The run stops at a gate: its result says so and lists what it waits on."""
    result = suspended_result(_result(setup, status="suspended"), setup)
    _close_run_span(setup, result, None)
    setup.result = result
    return result


def _perform_sync(setup: RunSetup, op: Op) -> Any:
    """One operation of the loop, blocking; its answer for the loop."""
    if not isinstance(op, CallModel | Emit):
        _settle_sync(setup)  # the thread's connection is free (and the last writes on disk) before it is used
    if isinstance(op, CallModel):
        ref, response = calls.call_sync(chain=setup.chain, request=op.request, trace=setup.trace)
        setup.model = ref.id
        _settle_sync(setup)  # the row and the last step's outcomes are on disk before this answer is used
        return response
    if isinstance(op, RunTools):
        return execute_many_sync(
            op.calls, trace=setup.trace, context=setup.context, ids=setup.tool_ids, resume=op.resume
        )
    if isinstance(op, Suspend):
        run_suspend(setup, _suspended(setup))
    elif isinstance(op, Checkpoint):
        run_checkpoint(setup, durable=op.durable)
    return None  # Emit: a blocking run shows no events


async def _perform_async(setup: RunSetup, op: Op) -> Any:
    """One operation of the loop other than a model call or an event; its answer for the loop."""
    if isinstance(op, RunTools):
        return await execute_many_async(
            op.calls, trace=setup.trace, context=setup.context, ids=setup.tool_ids, resume=op.resume
        )
    if isinstance(op, Suspend):
        result = _suspended(setup)
        await db_to_async(run_suspend)(setup, result)
    elif isinstance(op, Checkpoint):
        if op.durable:
            await db_to_async(run_checkpoint)(setup, durable=True)
        else:
            run_checkpoint(setup, durable=False, asynchronous=True)  # queued: no I/O here
    return None


def _watch(setup: RunSetup) -> None:
    """A run can be cancelled from anywhere once its row exists: follow its cancel signal while
    it runs. Also a run whose row is only queued: a cancel needs the row, so it can only come
    once the row is committed, and is then not missed."""
    setup.watched = str(setup.run_id)
    cancel_watch(run_id=setup.watched)


def _unwatch(setup: RunSetup) -> None:
    if setup.watched:
        cancel_unwatch(run_id=setup.watched)
        setup.watched = ""


def run_sync(setup: RunSetup) -> RunResult:
    """Drive `run_loop` with blocking calls (the model, the tools, the database)."""
    if setup.replay is not None:
        return _replayed(setup.replay)  # found by run_setup (a run with memory and a key)
    if not setup.inserted and setup.writes is None:
        if _inserted_at_start(setup):
            replay = run_begin(setup.record, idempotency_key=setup.turn.options.idempotency_key)
            if replay is not None:
                return _replayed(replay)
            setup.inserted = True
        else:
            _queue_start(setup, asynchronous=False)
    setup.model = setup.model or setup.chain[0].id
    machine = run_loop(setup)
    answer: Any = None
    _watch(setup)
    try:
        while True:
            try:
                op = machine.send(answer)
            except StopIteration as stop:
                status = stop.value
                break
            _stop_if_cancelled(setup, op)
            answer = _perform_sync(setup, op)
    except RunCancelled as error:
        _finish_failed(setup, error, "cancelled")
        raise
    except PlatformError as error:
        _finish_failed(setup, error, "failed")
        raise
    except Exception as error:
        logger.exception("run %s failed", setup.run_id)
        internal = InternalRunError()
        _finish_failed(setup, internal, "failed")
        raise internal from error
    finally:
        _unwatch(setup)
    if status == "suspended":
        assert setup.result is not None  # noqa: S101 - set when the loop suspended
        return setup.result
    _settle_sync(setup)
    result = _result(setup, status="completed")
    setup.result = result
    run_finish(_outcome(setup, result, None, "completed"))
    return result


async def _begin(setup: RunSetup) -> RunResult | None:
    """An earlier run's result to replay (idempotency key), else None, the run inserted (or its
    insert queued) as running."""
    if setup.replay is not None:
        return _replayed(setup.replay)  # found by run_setup (a run with memory and a key)
    if setup.inserted or setup.writes is not None:
        return None  # inserted by run_setup, or a continuation of a stored run
    if not _inserted_at_start(setup):
        _queue_start(setup, asynchronous=True)
        return None
    key = setup.turn.options.idempotency_key
    if not key and settings.RUN_RECORDS_WRITE_BEHIND and not connections["default"].in_atomic_block:
        await run_begin_on_loop(setup.record)  # a stream's row: no thread hop before `start`
        setup.inserted = True
        return None
    replay = await db_to_async(run_begin)(setup.record, idempotency_key=key)
    if replay is not None:
        return _replayed(replay)
    setup.inserted = True
    return None


async def run_events(setup: RunSetup, *, streaming: bool) -> AsyncGenerator[ev.Event, None]:
    """Drive `run_loop` with awaits, yielding its events; always ends with `finish`, `error` or `abort`.

    The run is inserted as running before its `start` event (a request with an
    idempotency key first looks for an earlier run), and its outcome is written
    before the last event (its trace with it, or queued behind; see `writes_behind`).
    A run that suspends is written (state, gates, trace) before its approval request
    or suspension events, and ends with `finish` (`messageMetadata.status` "suspended").
    The outcome is also left on the setup (`setup.result` or `setup.error`).
    """
    setup.streaming = streaming
    replayed = await _begin(setup)
    if replayed is not None:
        setup.result = replayed
        for event in replay_events(replayed):
            yield event
        return
    setup.model = setup.model or setup.chain[0].id
    metadata = {"runId": str(setup.run_id), "traceId": str(setup.trace.id), "agentId": setup.spec.slug}
    if setup.thread_id:
        metadata["threadId"] = setup.thread_id
    steps: list[StepEvents] = [StepEvents(setup.turn.step)]  # the model call in progress is the last
    _watch(setup)  # before its id leaves with `start`: a cancel may follow at once
    try:
        yield ev.Start(message_id=str(setup.run_id), metadata=metadata)
        status = "completed"
        async with aclosing(_drive_async(setup, steps, streaming=streaming)) as events:
            async for item in events:
                if isinstance(item, _Done):
                    status = item.status
                else:
                    yield item
    except RunCancelled as cancelled:
        # The row is already `cancelled`: the partial answer goes to memory and the trace.
        setup.error = cancelled
        partial = "".join(steps[-1].partial)
        await _persist(setup, _result(setup, status="cancelled", partial_text=partial), cancelled)
        yield ev.Abort(reason=CANCELLED_REASON)
        return
    except (GeneratorExit, asyncio.CancelledError):
        if setup.result is None:  # a suspended run is already stored as such
            partial = "".join(steps[-1].partial)
            await asyncio.shield(
                _persist(setup, _result(setup, status="aborted", partial_text=partial), None)
            )
        raise
    except Exception as caught:
        error = caught if isinstance(caught, PlatformError) else InternalRunError()
        if error is not caught:
            logger.exception("run %s failed", setup.run_id)
        setup.error = error
        partial = "".join(steps[-1].partial)
        await _persist(setup, _result(setup, status="failed", partial_text=partial), error)
        yield ev.Error(error_text=error.message)
        return
    finally:
        _unwatch(setup)
    if status == "suspended":
        assert setup.result is not None  # noqa: S101 - set when the loop suspended
        yield suspended_finish(metadata, setup.result.pending_tool_calls)
        return
    result = _result(setup, status="completed")
    setup.result = result
    await _persist(setup, result, None)
    yield ev.Finish(
        finish_reason=result.finish_reason,  # type: ignore[arg-type]
        metadata={**metadata, "usage": result.usage.as_dict(), "finishReason": result.finish_reason},
    )


@dataclass(frozen=True, slots=True)
class _Done:
    status: str


async def _drive_async(
    setup: RunSetup, steps: list[StepEvents], *, streaming: bool
) -> AsyncGenerator[ev.Event | _Done, None]:
    """The loop's events, performing its operations; ends with the loop's status."""
    machine = run_loop(setup)
    answer: Any = None
    while True:
        try:
            op = machine.send(answer)
        except StopIteration as stop:
            yield _Done(stop.value)
            return
        answer = None
        if isinstance(op, Emit):
            yield op.event
            continue
        _stop_if_cancelled(setup, op)
        if isinstance(op, CallModel):
            step = StepEvents(setup.turn.step)
            steps.append(step)
            async with aclosing(_model_events(setup, step, op.request, streaming=streaming)) as events:
                async for event in events:
                    yield event
            await _settle(setup)  # the row and the last step's outcomes on disk before the answer is used
            answer = step.response
        else:
            answer = await _perform_async(setup, op)


async def _persist(setup: RunSetup, result: RunResult, error: PlatformError | None) -> None:
    """The run's outcome, committed before its last event (the trace may be queued behind)."""
    outcome = _outcome(setup, result, error, result.status)
    if outcome.behind and outcome.memory is None:
        await run_finish_committed(outcome)  # a group commit with other runs, no thread hop
        return
    await db_to_async(run_finish)(outcome)


async def _model_events(
    setup: RunSetup, step: StepEvents, request: dict[str, Any], *, streaming: bool
) -> AsyncGenerator[ev.Event, None]:
    """One model call (streamed or not) as events; the answer is left on `step.response`."""
    if streaming:
        deltas = calls.call_stream(
            chain=setup.chain, request=request, trace=setup.trace, on_first=step.set_model
        )
        async with aclosing(deltas):  # closed on the way out: a cancel closes the provider stream
            async for batch in deltas:
                if setup.watched and cancel_requested(setup.watched):
                    raise RunCancelled()
                for kind, value in batch:
                    for event in step.events(kind, value):
                        yield event
        assert step.response is not None  # noqa: S101 - a finished stream always ends with "done"
    else:
        ref, response = await calls.call_async(chain=setup.chain, request=request, trace=setup.trace)
        step.set_model(ref)
        step.response = response
        if response.text:
            yield ev.TextStart(id=step.text_id)
            yield ev.TextDelta(id=step.text_id, delta=response.text)
            yield ev.TextEnd(id=step.text_id)
    if step.model:
        setup.model = step.model
