"""The two drivers of the tool loop: synchronous (`generate`) and asynchronous (events).

Both take a `RunSetup`, call the model and the tools, and leave the run and its
trace persisted whatever happens: completed, failed with its error, or aborted
with the partial answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from asgiref.sync import sync_to_async

from agents.providers import calls
from agents.providers.config import ModelRef
from agents.providers.openai_client import ModelResponse
from agents.runtime import events as ev
from agents.runtime.persistence import (
    MemoryWrite,
    Replay,
    run_begin,
    run_finish,
    run_finish_committed,
    writes_behind,
)
from agents.runtime.setup import RunSetup
from agents.runtime.tool_exec import execute_many_async, execute_many_sync
from agents.runtime.turn import PreparedCall
from agents.runtime.types import RunResult
from core.db import releasing
from core.errors import PlatformError

logger = logging.getLogger(__name__)


class InternalRunError(PlatformError):
    code = "internal_error"
    status = 500
    default_message = "The run failed because of an internal error; it was recorded."


def _result(setup: RunSetup, *, status: str, model: str, partial_text: str = "") -> RunResult:
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
        model=model,
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


def _finish_kwargs(
    setup: RunSetup, result: RunResult | None, error: PlatformError | None, status: str
) -> dict[str, Any]:
    _close_run_span(setup, result, error)
    behind = writes_behind(memory=setup.memory_session is not None, streaming=setup.streaming)
    return {
        "behind": behind,
        "run_id": setup.run_id,
        "inserted": setup.inserted,
        "spec": setup.spec,
        "context": setup.context,
        "thread_id": setup.thread_id,
        "input_payload": setup.input_payload,
        "trace": setup.trace,
        "started_at": setup.started_at,
        "result": result,
        "error": error,
        "status": status,
        "memory": MemoryWrite(session=setup.memory_session, messages=setup.turn.messages)
        if setup.memory_session is not None
        else None,
    }


def _begin_kwargs(setup: RunSetup) -> dict[str, Any]:
    return {
        "run_id": setup.run_id,
        "spec": setup.spec,
        "context": setup.context,
        "thread_id": setup.thread_id,
        "input_payload": setup.input_payload,
        "idempotency_key": setup.turn.options.idempotency_key,
        "trace": setup.trace,
        "started_at": setup.started_at,
    }


def _replayed(replay: Replay) -> RunResult:
    if replay.error is not None:
        raise replay.error
    assert replay.result is not None  # noqa: S101 - a replay holds a result or an error
    return replay.result


def _inserted_at_start(setup: RunSetup) -> bool:
    """Whether the run's row goes in before the model is called.

    A stream hands its run id to the client in its first event, and an idempotency key
    must be claimed before the work it guards: then the row is inserted as running at
    the start. A plain `generate` hands its id over only with its answer, so its one row
    is written then, committed before the answer is returned: one round trip instead of
    two, and every id a client holds still resolves.
    """
    return setup.streaming or bool(setup.turn.options.idempotency_key)


def run_sync(setup: RunSetup) -> RunResult:
    turn = setup.turn
    if setup.replay is not None:
        return _replayed(setup.replay)  # found by run_setup (a run with memory and a key)
    if not setup.inserted and _inserted_at_start(setup):
        replay = run_begin(**_begin_kwargs(setup))
        if replay is not None:
            return _replayed(replay)
        setup.inserted = True
    model = setup.chain[0].id
    try:
        while not turn.done:
            ref, response = calls.call_sync(chain=setup.chain, request=turn.request(), trace=setup.trace)
            model = ref.id
            prepared = turn.on_response(response)
            if prepared:
                turn.on_tool_results(
                    execute_many_sync(prepared, trace=setup.trace, context=setup.context, ids=setup.tool_ids)
                )
    except PlatformError as error:
        run_finish(**_finish_kwargs(setup, _result(setup, status="failed", model=model), error, "failed"))
        raise
    except Exception as error:
        logger.exception("run %s failed", setup.run_id)
        internal = InternalRunError()
        run_finish(**_finish_kwargs(setup, _result(setup, status="failed", model=model), internal, "failed"))
        raise internal from error
    result = _result(setup, status="completed", model=model)
    run_finish(**_finish_kwargs(setup, result, None, "completed"))
    return result


def _tool_input_event(call: PreparedCall) -> ev.Event:
    if call.input is None and call.definition is not None:
        return ev.ToolInputError(
            tool_call_id=call.id, tool_name=call.name, input=call.arguments, error_text=call.error or ""
        )
    return ev.ToolInputAvailable(tool_call_id=call.id, tool_name=call.name, input=call.input)


class _Step:
    """Streamed deltas of one model call turned into events."""

    def __init__(self, step: int) -> None:
        self.text_id = f"text-{step}"
        self.reasoning_id = f"reasoning-{step}"
        self.text_open = False
        self.reasoning_open = False
        self.partial: list[str] = []
        self.response: ModelResponse | None = None
        self.model: str | None = None

    def set_model(self, ref: ModelRef) -> None:
        self.model = ref.id

    def events(self, kind: str, value: Any) -> list[ev.Event]:
        if kind == "text":
            self.partial.append(value)
            if self.text_open:
                return [ev.TextDelta(id=self.text_id, delta=value)]
            self.text_open = True
            return [
                *self._end_reasoning(),
                ev.TextStart(id=self.text_id),
                ev.TextDelta(id=self.text_id, delta=value),
            ]
        if kind == "reasoning":
            if self.reasoning_open:
                return [ev.ReasoningDelta(id=self.reasoning_id, delta=value)]
            self.reasoning_open = True
            return [
                ev.ReasoningStart(id=self.reasoning_id),
                ev.ReasoningDelta(id=self.reasoning_id, delta=value),
            ]
        if kind == "tool-start":
            return [*self._end_text(), ev.ToolInputStart(tool_call_id=value.id, tool_name=value.name)]
        if kind == "tool-delta":
            return [ev.ToolInputDelta(tool_call_id=value[0], delta=value[1])]
        self.response = value
        return [*self._end_reasoning(), *self._end_text()]

    def _end_text(self) -> list[ev.Event]:
        if not self.text_open:
            return []
        self.text_open = False
        return [ev.TextEnd(id=self.text_id)]

    def _end_reasoning(self) -> list[ev.Event]:
        if not self.reasoning_open:
            return []
        self.reasoning_open = False
        return [ev.ReasoningEnd(id=self.reasoning_id)]


async def _begin(setup: RunSetup) -> RunResult | None:
    """An earlier run's result to replay (idempotency key), else None, the run inserted as running."""
    if setup.replay is not None:
        return _replayed(setup.replay)  # found by run_setup (a run with memory and a key)
    if setup.inserted or not _inserted_at_start(setup):
        return None  # inserted by run_setup, or written once when it ends
    replay = await sync_to_async(releasing(run_begin), thread_sensitive=False)(**_begin_kwargs(setup))
    if replay is not None:
        return _replayed(replay)
    setup.inserted = True
    return None


async def run_events(setup: RunSetup, *, streaming: bool) -> AsyncGenerator[ev.Event, None]:
    """The run as AI SDK UI message stream events; always ends with `finish`, `error` or `abort`.

    The run is inserted as running before its `start` event (a request with an
    idempotency key first looks for an earlier run), and its outcome is written
    before the last event (its trace with it, or queued behind; see `writes_behind`).
    """
    turn = setup.turn
    setup.streaming = streaming
    replayed = await _begin(setup)
    if replayed is not None:
        setup.extra["result"] = replayed
        for event in _replay_events(replayed):
            yield event
        return

    async def persist(result: RunResult, error: PlatformError | None, status: str) -> None:
        # The run's outcome is committed before the last event (the trace may be queued behind).
        kwargs = _finish_kwargs(setup, result, error, status)
        if kwargs["behind"] and kwargs["memory"] is None:
            await run_finish_committed(**kwargs)  # a group commit with other runs, no thread hop
            return
        await sync_to_async(releasing(run_finish), thread_sensitive=False)(**kwargs)

    model = setup.chain[0].id
    step = _Step(0)
    metadata = {"runId": str(setup.run_id), "traceId": str(setup.trace.id), "agentId": setup.spec.slug}
    if setup.thread_id:
        metadata["threadId"] = setup.thread_id
    yield ev.Start(message_id=str(setup.run_id), metadata=metadata)
    try:
        while not turn.done:
            step = _Step(turn.step)
            async with aclosing(_step_events(setup, step, streaming=streaming)) as step_events:
                async for event in step_events:
                    yield event
            model = step.model or model
    except (GeneratorExit, asyncio.CancelledError):
        partial = "".join(step.partial)
        await asyncio.shield(
            persist(_result(setup, status="aborted", model=model, partial_text=partial), None, "aborted")
        )
        raise
    except Exception as caught:
        error = caught if isinstance(caught, PlatformError) else InternalRunError()
        if error is not caught:
            logger.exception("run %s failed", setup.run_id)
        setup.extra["error"] = error
        partial = "".join(step.partial)
        await persist(_result(setup, status="failed", model=model, partial_text=partial), error, "failed")
        yield ev.Error(error_text=error.message)
        return
    result = _result(setup, status="completed", model=model)
    setup.extra["result"] = result
    await persist(result, None, "completed")
    yield ev.Finish(
        finish_reason=result.finish_reason,  # type: ignore[arg-type]
        metadata={**metadata, "usage": result.usage.as_dict(), "finishReason": result.finish_reason},
    )


async def _step_events(setup: RunSetup, step: _Step, *, streaming: bool) -> AsyncGenerator[ev.Event, None]:
    """One step: a model call (streamed or not), then the tool calls it asked for."""
    turn = setup.turn
    yield ev.StartStep()
    if streaming:
        deltas = calls.call_stream(
            chain=setup.chain, request=turn.request(), trace=setup.trace, on_first=step.set_model
        )
        async with aclosing(deltas):
            async for batch in deltas:
                for kind, value in batch:
                    for event in step.events(kind, value):
                        yield event
        response = step.response
        assert response is not None  # noqa: S101 - a finished stream always ends with "done"
    else:
        ref, response = await calls.call_async(chain=setup.chain, request=turn.request(), trace=setup.trace)
        step.set_model(ref)
        if response.text:
            yield ev.TextStart(id=step.text_id)
            yield ev.TextDelta(id=step.text_id, delta=response.text)
            yield ev.TextEnd(id=step.text_id)
    prepared = turn.on_response(response)
    for call in prepared:
        yield _tool_input_event(call)
    if prepared:
        outcomes = await execute_many_async(
            prepared, trace=setup.trace, context=setup.context, ids=setup.tool_ids
        )
        for outcome in outcomes:
            if outcome.error is None:
                yield ev.ToolOutputAvailable(tool_call_id=outcome.id, output=outcome.output)
            else:
                yield ev.ToolOutputError(tool_call_id=outcome.id, error_text=outcome.error)
        turn.on_tool_results(outcomes)
    yield ev.FinishStep()


def _replay_events(result: RunResult) -> list[ev.Event]:
    metadata = {
        "runId": result.run_id,
        "traceId": result.trace_id,
        "agentId": result.agent_id,
        "replayed": True,
    }
    events: list[ev.Event] = [ev.Start(message_id=result.run_id, metadata=metadata)]
    if result.text:
        events += [
            ev.TextStart(id="text-0"),
            ev.TextDelta(id="text-0", delta=result.text),
            ev.TextEnd(id="text-0"),
        ]
    events.append(ev.Finish(finish_reason=result.finish_reason, metadata=metadata))  # type: ignore[arg-type]
    return events
