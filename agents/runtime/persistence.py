"""Runs in the database: idempotent begin, and the final write together with the trace."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, OperationalError

from agents.models import Run
from agents.runtime.memory_hooks import MemorySession, memory_close
from agents.runtime.spec import AgentSpec
from agents.runtime.types import RunInProgress, RunResult, Usage
from core.context import RequestContext
from core.db import SentBatch, Statement, execute_batch, execute_batch_on_loop, fast_commit, send_batch
from core.errors import PlatformError
from core.writebehind import records, wait_committed
from observability.redaction import redact
from observability.tracing import Trace


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryWrite:
    """What the run leaves in memory: the session and the turn's messages."""

    session: MemorySession
    messages: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True, slots=True)
class RunRecord:
    """What a run's row is made of, whenever it is written: at the start, at a checkpoint,
    with the outcome (an insert when the row at the start is not known to be committed)."""

    run_id: uuid.UUID
    spec: AgentSpec
    context: RequestContext
    thread_id: str
    input_payload: dict[str, Any]
    trace: Trace
    started_at: datetime

    def row(self, *, idempotency_key: str | None = None) -> dict[str, Any]:
        """The row's columns as of the start (status running, no outcome yet)."""
        return {
            "id": self.run_id,
            "tenant_id": self.context.tenant_id,
            "agent_id": self.spec.pk,
            "agent_version": self.spec.version,
            "user_id": self.context.user_id,
            "thread_id": self.thread_id,
            "resource_id": self.context.resource_id or "",
            "idempotency_key": idempotency_key,
            "model": self.spec.model,
            "input": redact(self.input_payload),
            "trace_id": self.trace.id,
            "created_at": self.started_at,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Outcome:
    """How a run ended (or where a continued run stopped), as `run_finish` writes it.

    `inserted`: the row at the start is known to be committed (the outcome updates it).
    `state`: the final run state of a continued run. `behind`: the trace may be queued for
    the write-behind thread (`writes_behind`).
    """

    record: RunRecord
    inserted: bool
    status: str
    result: RunResult | None
    error: PlatformError | None
    memory: MemoryWrite | None = None
    behind: bool = False
    state: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Replay:
    """A run with this idempotency key already happened: its stored outcome."""

    result: RunResult | None
    error: PlatformError | None


class QueuedWrites:
    """A run's writes sent while it goes on: its row at the start (status running), then its
    checkpoints, committed in that order while the next model request is in flight.

    From an event loop (`asynchronous`) they go to the run-record writer
    (`core.writebehind.records`), whose thread commits many runs' writes at once; from a
    thread they are sent on the thread's own connection (`core.db.send_batch`): no thread
    hop, and the server commits them while the thread waits on the model.

    `settle` waits until everything sent so far is committed; the drivers call it when a
    model call returns, before its answer is used, so that the run's row exists before any
    tool runs and each step's recorded tool outcomes are on disk before the next step goes
    on. A thread's writes are also settled before its next use of the database (`settle_sync`).
    """

    __slots__ = ("_asynchronous", "_pending", "_sent", "row_committed", "row_refused")

    def __init__(self, *, asynchronous: bool) -> None:
        self._asynchronous = asynchronous
        self._pending: list[tuple[asyncio.Future[None], bool]] = []
        self._sent: list[tuple[SentBatch, bool]] = []
        self.row_committed = False
        self.row_refused = False

    def submit(self, statements: list[Statement], *, row: bool = False) -> None:
        if self._asynchronous:
            self._pending.append((records.submit_future(statements), row))
            return
        self.settle_sync()  # one command string in flight on a connection at a time
        try:
            self._sent.append((send_batch(statements), row))  # in a caller's transaction: joins it
        except DatabaseError as error:
            self._outcome(error, row)

    @property
    def pending(self) -> bool:
        return bool(self._pending or self._sent)

    def settle_sync(self) -> None:
        """Wait until everything sent from this thread is committed (`OperationalError` past
        `DB_POOL_TIMEOUT_S`); a refused checkpoint raises the database's error."""
        sent, self._sent = self._sent, []
        outcomes: list[tuple[BaseException | None, bool]] = []
        for batch, row in sent:  # every answer read before any is acted on
            try:
                batch.wait(settings.DB_POOL_TIMEOUT_S)
                outcomes.append((None, row))
            except DatabaseError as refused:
                outcomes.append((refused, row))
        for error, row in outcomes:
            self._outcome(error, row)

    async def settle(self) -> None:
        """`settle_sync` from the event loop the writes were submitted from."""
        pending, self._pending = self._pending, []
        for future, row in pending:
            try:
                await wait_committed(future, wait_s=settings.DB_POOL_TIMEOUT_S)
                error: BaseException | None = None
            except OperationalError as timeout:
                if not future.done():
                    raise timeout
                error = future.exception()
            except Exception as refused:
                error = refused
            self._outcome(error, row)

    def _outcome(self, error: BaseException | None, row: bool) -> None:
        if row:
            # A refused row is not fatal: the outcome is then written as an insert (an upsert).
            self.row_committed, self.row_refused = error is None, error is not None
            return
        if error is not None:
            raise error  # a checkpoint the database refused: the run must not go on without it


def run_start_queue(record: RunRecord, *, asynchronous: bool) -> QueuedWrites:
    """Send the run's row (status running) (see `QueuedWrites`) and return at once: it is
    committed while the model is called. A row already there (its outcome written first, if
    the run failed before its first model answer) is left alone."""
    writes = QueuedWrites(asynchronous=asynchronous)
    writes.submit([_run_insert(record.row(), on_conflict=_DO_NOTHING)], row=True)
    return writes


class StoredRunError(PlatformError):
    """The stored failure of an earlier run with the same idempotency key, returned again."""

    def __init__(self, payload: dict[str, Any], status: int) -> None:
        super().__init__(payload.get("message"), details=payload.get("details") or {})
        self.code = payload.get("code", "run_failed")  # type: ignore[misc]
        self.status = status  # type: ignore[misc]


def _replay(run: Run) -> Replay:
    if run.status == Run.Status.RUNNING:
        raise RunInProgress(
            "A run with this idempotency key is still in progress.", details={"runId": str(run.id)}
        )
    if run.status in (Run.Status.COMPLETED, Run.Status.SUSPENDED):
        result = run.result
        usage = result.get("usage") or {}
        return Replay(
            result=RunResult(
                run_id=str(run.id),
                trace_id=str(run.trace_id or ""),
                agent_id=result.get("agentId", ""),
                agent_version=run.agent_version,
                status=run.status,
                text=result.get("text", ""),
                tool_calls=result.get("toolCalls", []),
                tool_results=result.get("toolResults", []),
                usage=Usage(usage.get("promptTokens", 0), usage.get("completionTokens", 0)),
                finish_reason=result.get("finishReason", "stop"),
                steps=run.steps,
                model=run.model,
                object=result.get("object"),
                replayed=True,
                pending_tool_calls=result.get("pendingToolCalls") or [],
            ),
            error=None,
        )
    return Replay(result=None, error=StoredRunError(run.error, int(run.error.get("status", 422))))


async def run_begin_on_loop(record: RunRecord) -> None:
    """`run_begin` without an idempotency key, from an event loop: the row inserted and
    committed on the loop's own connection (`core.db.execute_batch_on_loop`), without the
    thread hop. Only where records may be written on a connection of their own
    (`RUN_RECORDS_WRITE_BEHIND`) and outside a caller's transaction."""
    await execute_batch_on_loop([_run_insert(record.row())])


def run_begin(record: RunRecord, *, idempotency_key: str | None) -> Replay | None:
    """Insert the run as running before the model is called, so that its id, once a client
    holds it, always resolves (even if this process is killed at once).

    With an idempotency key: the stored outcome of an earlier run with the same key, if
    there is one, and nothing is inserted. A key is scoped to tenant, owner (the
    context's user) and agent: another member's key never finds this run
    (docs/security.md).
    """
    if not idempotency_key:
        execute_batch([_run_insert(record.row())])
        return None
    # None (a run of the scheduler) matches IS NULL: the tenant's own key space for system runs.
    key: dict[str, Any] = {
        "tenant_id": record.context.tenant_id,
        "user_id": record.context.user_id,
        "agent_id": record.spec.pk,
        "idempotency_key": idempotency_key,
    }
    existing = Run.objects.filter(**key).first()
    if existing is not None:
        return _replay(existing)
    try:
        with fast_commit():
            Run.objects.create(**record.row(idempotency_key=idempotency_key))
    except IntegrityError:
        existing = Run.objects.get(**key)
        return _replay(existing)
    return None


def run_finish(outcome: Outcome) -> None:
    """Write the run's outcome, the assistant's message (with memory) and the trace in one transaction."""
    statement = _outcome_statement(outcome)
    trace, memory = outcome.record.trace, outcome.memory
    if memory is None:
        if outcome.behind:
            # The run's outcome is committed before the caller hears it; the trace and its
            # spans are queued for the write-behind thread (see `writes_behind`), built
            # while the server commits the outcome.
            sent = send_batch([statement])
            try:
                trace.flush(behind=True)
            finally:
                sent.wait(settings.DB_POOL_TIMEOUT_S)
            return
        # One round trip: the run, the trace, its spans.
        trace.flush(extra=[statement])
        return
    result, status = outcome.result, outcome.status
    with fast_commit():
        with trace.span("memory.save", kind="memory", thread_id=outcome.record.thread_id):
            memory_close(
                session=memory.session,
                messages=memory.messages,
                run_id=str(outcome.record.run_id),
                status=status,
                partial_text=result.text if result is not None and status != "completed" else "",
            )
        trace.flush(extra=[statement])


async def run_finish_committed(outcome: Outcome) -> None:
    """`run_finish` from the event loop, for a run without memory whose trace may be queued
    (`writes_behind`): the outcome goes to the run-record writer and this waits until it is
    committed, without a thread hop; concurrent runs share that writer's batches (one
    commit for many). The trace and its spans are queued behind, as in `run_finish`.
    """
    assert outcome.memory is None  # noqa: S101 - the caller checks `writes_behind`
    await records.commit([_outcome_statement(outcome)], wait_s=settings.DB_POOL_TIMEOUT_S)
    outcome.record.trace.flush(behind=True)


def _outcome_statement(outcome: Outcome) -> Statement:
    """The statement that records the run's outcome: an update of its running row, or, when that
    row is not known to be committed (never written, or queued at the start and not yet
    confirmed), an insert of the whole row that updates a running row already there."""
    result, error, record = outcome.result, outcome.error, outcome.record
    fields: dict[str, Any] = {
        "status": outcome.status,
        "duration_ms": (datetime.now(UTC) - record.started_at).total_seconds() * 1000,
    }
    if outcome.state is not None:
        fields["state"] = redact(outcome.state)
    if result is not None:
        fields.update(
            result=redact(result.as_dict()),
            usage=result.usage.as_dict(),
            steps=result.steps,
            model=result.model,
        )
    if error is not None:
        fields["error"] = redact({**error.as_dict(), "status": error.status})
    if outcome.inserted:
        return _run_update(record.run_id, fields)
    return _run_insert({**record.row(), **fields}, on_conflict=_upsert(fields))


def writes_behind(*, memory: bool, streaming: bool) -> bool:
    """Whether the run's trace and spans may be queued for the write-behind thread
    (`run_finish(behind=True)`) instead of being written with the run's outcome.

    The run's own row is never queued: a client that got its id must find it. Written
    together, before the caller hears the end: a run with memory (the next turn reads
    its messages, in the same transaction); a stream (its `finish` event tells the
    client that the trace can be read, and the write overlaps the stream rather than
    the next request).
    """
    return bool(settings.RUN_RECORDS_WRITE_BEHIND) and not (memory or streaming)


_RUN = Run._meta.db_table
_JSON_FIELDS = frozenset({"input", "result", "usage", "error", "state"})
_RUN_COLUMNS = (
    "id", "tenant_id", "agent_id", "agent_version", "user_id", "thread_id", "resource_id", "status",
    "idempotency_key", "model", "input", "result", "usage", "error", "trace_id", "steps", "created_at", "duration_ms",
    "state", "checkpoint_at",
)  # fmt: skip


def _placeholder(column: str) -> str:
    return "%s::jsonb" if column in _JSON_FIELDS else "%s"


def _value(column: str, value: Any) -> Any:
    return json.dumps(value, default=str) if column in _JSON_FIELDS else value


_DO_NOTHING = "ON CONFLICT (id) DO NOTHING"


def _upsert(fields: dict[str, Any]) -> str:
    """On a row already there (queued at the start, committed meanwhile): set the outcome's
    fields, only while it is running (as `_run_update`)."""
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in sorted(fields))
    return f"ON CONFLICT (id) DO UPDATE SET {assignments} WHERE {_RUN}.status = 'running'"


def _run_insert(values: dict[str, Any], *, on_conflict: str = "") -> Statement:
    defaults = {
        "result": {}, "usage": {}, "error": {}, "steps": 0, "duration_ms": 0.0, "status": "running", "state": {},
    }  # fmt: skip
    row = {**defaults, **values}
    columns = ", ".join(_RUN_COLUMNS)
    placeholders = ", ".join(_placeholder(c) for c in _RUN_COLUMNS)
    sql = f"INSERT INTO {_RUN} ({columns}) VALUES ({placeholders}) {on_conflict}"  # noqa: S608 - model metadata
    return sql, [_value(c, row.get(c)) for c in _RUN_COLUMNS]


def _run_update(run_id: uuid.UUID, fields: dict[str, Any]) -> Statement:
    names = sorted(fields)
    assignments = ", ".join(f"{name} = {_placeholder(name)}" for name in names)
    # Only a running run: a run cancelled (or marked interrupted) meanwhile keeps that status.
    sql = f"UPDATE {_RUN} SET {assignments} WHERE id = %s AND status = 'running'"  # noqa: S608 - model metadata
    return sql, [*(_value(name, fields[name]) for name in names), run_id]
