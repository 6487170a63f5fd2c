"""Runs in flight in this process, and the fan-out of their frames.

A run is an asyncio task that consumes the runtime's event stream. It belongs
to no connection: a client that disconnects leaves it running to the end (the
runtime persists it). Each chunk becomes a frame with a per-run sequence
number; frames go to the replay buffer, to the thread's channel-layer group
(every tab on the thread, in any process) and to local subscribers (the SSE
route). Whatever happens, a run's last frames are a terminal chunk (`finish`,
`error` or `abort`) and a `run-end` frame, so no stream is left hanging.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings

from agents.runtime.events import CANCELLED_REASON, Abort, Error, Event
from agents.runtime.setup import RunSetup
from chat.runs.coalesce import Coalescer
from chat.runs.replay import IDLE, replay_append, replay_length
from chat.runtime import ChatRequest, chat_runtime
from core.access import Actor
from core.errors import PlatformError
from observability.redaction import scrub_text

logger = logging.getLogger(__name__)

Frame = dict[str, Any]
_TERMINAL = {"finish": "completed", "error": "failed", "abort": "aborted"}
_END = object()


def thread_group(*, user_id: int | str, thread_id: str) -> str:
    """The channel-layer group of one user's thread (ASCII, short, unguessable from outside)."""
    digest = hashlib.sha256(f"{user_id}:{thread_id}".encode()).hexdigest()[:32]
    return f"chat.thread.{digest}"


@dataclass(eq=False, kw_only=True)
class Run:
    run_id: str
    thread_id: str
    user_id: int | str
    group: str | None
    tenant_id: int | None = None
    seq: int = 0
    status: str = "running"
    subscribers: list[asyncio.Queue[Frame | None]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    outbox: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    # A new turn's frames wait here until the replay buffer names the run as the thread's
    # newest (the publisher's first append): a client that sees its first frame and at once
    # resumes by chat id (another tab, a reload) then always finds it; at most _HOLD_MAX_S
    # (a Redis that hangs). None: delivered now.
    held: list[Frame] | None = None

    def frame(self, body: Frame) -> Frame:
        self.seq += 1
        return {"runId": self.run_id, "threadId": self.thread_id, "seq": self.seq, **body}

    def emit_chunk(self, chunk: dict[str, Any]) -> None:
        self.emit(self.frame({"type": "chunk", "chunk": chunk}))

    def emit(self, frame: Frame | object) -> None:
        """Local subscribers get the frame now; the publisher sends it on to the group and the replay buffer."""
        if frame is not _END:
            if self.held is not None:
                self.held.append(frame)  # type: ignore[arg-type]
            else:
                for queue in self.subscribers:
                    queue.put_nowait(frame)  # type: ignore[arg-type]
        self.outbox.put_nowait(frame)

    def release(self) -> None:
        """Deliver the held frames, in order, and every later one at once."""
        held, self.held = self.held, None
        for frame in held or ():
            for queue in self.subscribers:
                queue.put_nowait(frame)

    def subscribe(self, *, idle_s: float = 0) -> AsyncIterator[Frame]:
        """Frames from now on, ending after `run-end`. With `idle_s`, `IDLE` comes after that
        long without a frame (the SSE route's heartbeat)."""
        queue: asyncio.Queue[Frame | None] = asyncio.Queue()
        self.subscribers.append(queue)

        async def frames() -> AsyncIterator[Frame]:
            try:
                while True:
                    if idle_s > 0 and queue.empty():
                        try:
                            async with asyncio.timeout(idle_s):
                                item = await queue.get()
                        except TimeoutError:
                            yield IDLE
                            continue
                    else:
                        item = await queue.get()
                    if item is None:
                        break
                    yield item
            finally:
                with contextlib.suppress(ValueError):
                    self.subscribers.remove(queue)

        return frames()


_RUNS: dict[str, Run] = {}


def run_get(*, run_id: str) -> Run | None:
    return _RUNS.get(run_id)


def run_start(*, request: ChatRequest, group: str | None, after_seq: int = 0) -> Run:
    """Start a run as a task of its own; frames flow to `group` and subscribers.

    The run's id is the stored run's (chosen here for a new turn, so the first frame already
    carries it). A continuation of a suspended run keeps its id and numbers its frames on
    from `after_seq`, so the run's frames stay one sequence in the replay buffer.
    """
    user_id = request.context.user_id if request.context.user_id is not None else "anonymous"
    if request.run_id is None:
        request = replace(request, run_id=str(uuid.uuid4()))
    assert request.run_id is not None  # noqa: S101 - set just above
    run = Run(
        run_id=request.run_id,
        thread_id=request.thread_id,
        user_id=user_id,
        group=group,
        tenant_id=request.context.tenant_id,
        seq=after_seq,
        held=[] if after_seq == 0 else None,
    )
    _RUNS[run.run_id] = run
    if run.held is not None:
        asyncio.get_running_loop().call_later(_HOLD_MAX_S, run.release)
    publisher = asyncio.get_running_loop().create_task(_publish(run))
    run.task = asyncio.get_running_loop().create_task(_pump(run, request, publisher))
    return run


async def run_continue(*, request: ChatRequest, group: str | None) -> Run:
    """Start the continuation of the suspended run `request.run_id` (its decision recorded).

    Its frames are numbered on from the run's last frame in the replay buffer; a segment of
    the run still finishing in this process (its last frames on their way) is waited for first.
    """
    assert request.run_id is not None  # noqa: S101 - a continuation names its run
    previous = _RUNS.get(request.run_id)
    if previous is not None and previous.task is not None:
        await asyncio.wait({previous.task})
    user_id = request.context.user_id if request.context.user_id is not None else "anonymous"
    after_seq = await _resumed(group, user_id=user_id, run_id=request.run_id, thread_id=request.thread_id)
    return run_start(request=request, group=group, after_seq=after_seq)


async def _resumed(group: str | None, *, user_id: int | str, run_id: str, thread_id: str) -> int:
    """The run's last frame number in the replay buffer, which a continuation numbers on from,
    after telling every tab on the thread that the run goes on: a tab that shows the run from the
    stored thread (a reload) takes the continuation from its first frame. The announcement is not
    a numbered frame: it is not part of the run's replay."""
    after_seq = await replay_length(user_id=user_id, run_id=run_id)
    if group is not None:
        frame = {"type": "run-resumed", "runId": run_id, "threadId": thread_id, "afterSeq": after_seq}
        try:
            await get_channel_layer().group_send(group, {"type": "chat.frame", "frame": frame})
        except Exception:
            logger.warning("group send failed for run %s", run_id, exc_info=True)
    return after_seq


async def thread_mirror(setup: RunSetup, events: AsyncIterator[Event]) -> AsyncIterator[Event]:
    """Pass a continuation's events on to its caller (a REST route, a worker continuing what the
    admin decided) and show them on the run's thread as the chat's own runs are: frames to the
    replay buffer and to every tab on the thread, numbered on from the run's last frame."""
    assert setup.context.user_id is not None  # noqa: S101 - only runs of a user are mirrored
    user_id = setup.context.user_id
    run_id = str(setup.run_id)
    group = thread_group(user_id=user_id, thread_id=setup.thread_id)
    after_seq = await _resumed(group, user_id=user_id, run_id=run_id, thread_id=setup.thread_id)
    run = Run(
        run_id=run_id,
        thread_id=setup.thread_id,
        user_id=user_id,
        group=group,
        tenant_id=setup.context.tenant_id,
        seq=after_seq,
    )
    publisher = asyncio.get_running_loop().create_task(_publish(run))
    coalescer = _coalescer(run)
    try:
        async for event in events:
            _pushed(run, coalescer, event)
            yield event
    except (GeneratorExit, asyncio.CancelledError):
        if run.status == "running":
            _stopped(run, coalescer, "The client went away.")
        raise
    except Exception as exc:
        _failed(run, coalescer, exc)
        raise
    finally:
        await _ended(run, coalescer, publisher)


def run_for(*, run_id: str, actor: Actor) -> Run | None:
    """A run in flight in this process that the actor may manage (its own, or any of its
    tenant's for a tenant admin); None otherwise, exactly as for a run that is not here."""
    run = _RUNS.get(run_id)
    if run is None or run.tenant_id != actor.tenant_id:
        return None
    owner = run.user_id if isinstance(run.user_id, int) else None
    return run if actor.may_manage(owner) else None


def run_abort(*, run_id: str, actor: Actor) -> bool:
    """Cancel a run of the actor's consuming its stream in this process; False when it is not
    here, not the actor's to stop (the two are indistinguishable to the caller), or already
    past its terminal chunk (cancelling it then would cut its last frames short)."""
    run = run_for(run_id=run_id, actor=actor)
    if run is None or run.task is None or run.task.done() or run.status != "running":
        return False
    run.task.cancel()
    return True


_YIELD_EVERY_S = 0.002
# For a moment from the first text on, the pump yields after every event: delivering a
# frame takes several turns of the loop (publisher, channel layer, consumer, socket), and
# the first token is what the reader is waiting for. Before it the pump does not: the
# request to the provider goes out first, and the earlier frames leave while it waits.
_EAGER_UNTIL_TEXT_PLUS_S = 0.003
# How long a new turn's first frames may wait for the replay buffer (`Run.held`): a Redis that
# hangs rather than refuses must not hold the answer back for its whole timeout.
_HOLD_MAX_S = 1.0


def _status_after(chunk: dict[str, Any], status: str) -> str:
    """The run's status once `chunk` is out: a `finish` of a run that waits for a person is
    `suspended` (the SDK knows no such finish reason; the runtime says so in its metadata)."""
    if chunk["type"] == "finish" and (chunk.get("messageMetadata") or {}).get("status") == "suspended":
        return "suspended"
    if chunk["type"] == "abort" and chunk.get("reason") == CANCELLED_REASON:
        return "cancelled"  # stopped by `POST /api/runs/{runId}/cancel` (or an abort from another process)
    return _TERMINAL.get(chunk["type"], status)


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, PlatformError):
        return scrub_text(exc.message)
    return "The agent failed with an internal error. The partial answer was kept."


def _coalescer(run: Run) -> Coalescer:
    return Coalescer(emit=run.emit_chunk, window_s=float(getattr(settings, "CHAT_COALESCE_S", 0.004)))


def _pushed(run: Run, coalescer: Coalescer, event: Event) -> dict[str, Any]:
    """The event's chunk, on its way to the run's frames (the run's status follows it)."""
    chunk = event.to_chunk()
    run.status = _status_after(chunk, run.status)
    coalescer.push(chunk)
    return chunk


def _stopped(run: Run, coalescer: Coalescer, reason: str) -> None:
    coalescer.flush()
    run.status = "aborted"
    run.emit_chunk(Abort(reason=reason).to_chunk())


def _failed(run: Run, coalescer: Coalescer, exc: BaseException) -> None:
    coalescer.flush()
    run.status = "failed"
    run.emit_chunk(Error(error_text=_error_text(exc)).to_chunk())


async def _ended(run: Run, coalescer: Coalescer, publisher: asyncio.Task[None]) -> None:
    """The run's last frames (a terminal chunk if it had none, then `run-end`), delivered."""
    coalescer.flush()
    if run.status == "running":
        run.status = "failed"
        run.emit_chunk(Error(error_text="The run ended without finishing.").to_chunk())
    run.emit(run.frame({"type": "run-end", "status": run.status}))
    run.emit(_END)
    await asyncio.shield(publisher)


async def _pump(run: Run, request: ChatRequest, publisher: asyncio.Task[None]) -> None:
    coalescer = _coalescer(run)
    events: AsyncIterator[Event] | None = None
    loop = asyncio.get_running_loop()
    yielded_at = loop.time()
    eager_until: float | None = None  # set at the first text
    try:
        events = chat_runtime().stream(request)
        async for event in events:
            chunk = _pushed(run, coalescer, event)
            if eager_until is None and chunk["type"] == "text-delta":
                eager_until = loop.time() + _EAGER_UNTIL_TEXT_PLUS_S
            # A provider stream that is already buffered never suspends this loop: yield now and
            # then (well inside the coalescing window), so the publisher and the sockets deliver
            # frames while the answer is still being read rather than after it.
            now = loop.time()
            eager = eager_until is not None and now < eager_until
            if eager or now - yielded_at >= _YIELD_EVERY_S:
                await asyncio.sleep(0)
                yielded_at = loop.time()  # after the turn: a busy loop must not make every event yield
    except asyncio.CancelledError:
        _stopped(run, coalescer, "Stopped by the user.")
    except Exception as exc:
        logger.exception("chat run %s failed", run.run_id)
        _failed(run, coalescer, exc)
    finally:
        coalescer.flush()
        if events is not None and hasattr(events, "aclose"):
            with contextlib.suppress(Exception):
                await events.aclose()
        await _ended(run, coalescer, publisher)
        _RUNS.pop(run.run_id, None)


async def _publish(run: Run) -> None:
    """Deliver frames in order: replay buffer first, then the group and subscribers."""
    layer = get_channel_layer() if run.group else None
    finished = False
    while not finished:
        batch = [await run.outbox.get()]
        while not run.outbox.empty():
            batch.append(run.outbox.get_nowait())
        if batch[-1] is _END:
            batch.pop()
            finished = True
        # The replay buffer first, then the group: a tab that sees a frame live and asks for
        # the ones before it finds them all in the buffer (the other way round, a reloaded page
        # on the Redis layer asked while the batch's append was still behind its group sends,
        # and showed the answer with a hole). Local subscribers (the socket or the SSE response
        # that started the run) have later frames at once (`Run.emit`); only a new turn's
        # frames before this first append wait for it (`Run.held`), one Redis round trip that
        # the model's first answer comes well after.
        if batch:
            # The first batch also makes this the thread's newest run, for a client that resumes
            # by its chat id (the SSE route's `GET .../stream`).
            first = batch[0]["seq"] == 1
            try:
                await replay_append(
                    user_id=run.user_id,
                    run_id=run.run_id,
                    frames=batch,
                    thread_id=run.thread_id if first else None,
                )
            finally:
                run.release()
        for frame in batch:
            if layer is not None and run.group is not None:
                try:
                    await layer.group_send(run.group, {"type": "chat.frame", "frame": frame})
                except Exception:
                    logger.warning("group send failed for run %s", run.run_id, exc_info=True)
    for queue in list(run.subscribers):
        queue.put_nowait(None)
