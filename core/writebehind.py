"""Records written behind the response: a thread of the process commits them in batches.

A finished run's trace and its spans do not need to be on disk before
the caller gets its answer; they need to be on disk soon, complete and in one
transaction. `writer.submit(statements)` queues them and returns; a thread of
this process writes whatever has queued, many submissions in one round trip
and one transaction (committed without waiting for the WAL flush, as
`core.db.execute_batch`).

What it guarantees:
- a submission is written whole or not at all (its statements share a transaction);
- when the database is unreachable the thread retries with backoff, keeping the
  submissions; when `max_pending` are waiting, `submit` writes inline instead,
  so memory stays bounded and the caller sees the database's error;
- a submission the database refuses outright (not a connection problem) is
  logged without its values and dropped, and does not hold up the others;
- `flush()` waits until everything submitted so far is written (readers that
  must see a run just finished call it; so does process exit).

A process that is killed loses what it had queued: a few milliseconds of traces
and spans. The run rows of runs on an event loop go through `records` (a writer of their
own) with their callers waiting on them: a run's row queued at its start is committed
before the model's first answer is used, its checkpoints before the next step's, and its
outcome before the caller hears it (`submit_future`, `commit`), so a client holding a run
id always finds it. A blocking run sends the same writes on its own thread's connection
instead (`core.db.send_batch`), with the same guarantees. `RUN_RECORDS_WRITE_BEHIND=false`
writes traces inline too.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django.db.models import Model, QuerySet

from core.db import Statement, execute_batch

logger = logging.getLogger(__name__)

# Told once a submission is committed (None) or refused (the database's error).
OnWritten = Callable[[BaseException | None], None]
# The statements, a callback, and a future of an event loop settled once they are written.
_Submission = tuple[list[Statement], "OnWritten | None", "asyncio.Future[None] | None"]


class WriteBehind:
    def __init__(
        self,
        *,
        using: str = "default",
        max_pending: int = 10_000,
        max_batch: int = 256,
        linger_s: float = 0.5,
    ) -> None:
        self.using = using
        self.linger_s = linger_s  # how long an idle writer keeps its connection
        self.max_pending = max_pending
        self.max_batch = max_batch
        self._queue: deque[_Submission] = deque()
        self._wake = threading.Condition()
        self._submitted = 0
        self._done = 0
        self._thread: threading.Thread | None = None
        self._pid = 0

    def submit(self, statements: list[Statement], *, on_written: OnWritten | None = None) -> None:
        """Queue one submission (written in one transaction), or write it now when the queue is full.

        `on_written` is called from the writer's thread once the submission is committed
        (with None) or refused (with the error); with it, a full queue refuses the
        submission at once instead of writing inline (its caller may be an event loop).
        """
        if self._enqueue((statements, on_written, None)):
            return
        if on_written is not None:
            on_written(OperationalError("the write-behind queue is full"))
            return
        execute_batch(statements, using=self.using)

    def _enqueue(self, submission: _Submission) -> bool:
        self._ensure_thread()
        with self._wake:
            if len(self._queue) < self.max_pending:
                self._queue.append(submission)
                self._submitted += 1
                self._wake.notify()
                return True
        return False

    def submit_future(self, statements: list[Statement]) -> asyncio.Future[None]:
        """Queue one submission from an event loop; a future of that loop, settled once it is
        committed (or with the database's error, or at once when the queue is full).

        The writer settles all the futures of one batch and one loop with a single wake-up
        of the loop, so many concurrent runs cost the loop one callback per commit.
        """
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._enqueue((statements, None, future)):
            future.set_exception(OperationalError("the write-behind queue is full"))
        return future

    async def commit(self, statements: list[Statement], *, wait_s: float) -> None:
        """Queue one submission and wait, without blocking the event loop, until it is committed
        (a group commit with concurrent callers). Raises the database's error if it refuses
        it, and `OperationalError` if it is not committed within `wait_s` seconds."""
        await wait_committed(self.submit_future(statements), wait_s=wait_s)

    async def committed(self, submit: Callable[[OnWritten], None], *, wait_s: float) -> None:
        """Call `submit(on_written)`, which queues one submission with that callback, and wait
        without blocking the event loop until the submission is committed.

        Concurrent callers share the writer's batches, so many runs' records go in one
        commit (a group commit). Raises the database's error if it refuses them, and
        `OperationalError` if they are not committed within `wait_s` seconds (they may
        still be written later).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()

        def settle(error: BaseException | None) -> None:
            if not loop.is_closed():  # the caller may have given up and its loop ended
                loop.call_soon_threadsafe(_settle, future, error)

        submit(settle)
        try:
            await asyncio.wait_for(asyncio.shield(future), wait_s)
        except TimeoutError:
            raise OperationalError("the record was not committed in time") from None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything submitted before this call is written; False on timeout."""
        with self._wake:
            target = self._submitted
            return self._wake.wait_for(lambda: self._done >= target, timeout=timeout)

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _ensure_thread(self) -> None:
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._wake:
            if self._pid == pid and self._thread is not None:
                return
            self._pid = pid  # a forked child starts a thread of its own, with an empty queue
            self._queue.clear()
            self._submitted = self._done = 0
            self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        delay = 0.05
        while True:
            with self._wake:
                busy = self._wake.wait_for(lambda: bool(self._queue), timeout=self.linger_s)
            if not busy:
                # Idle: hand the connection back to the pool until something is queued. While
                # submissions keep coming it stays checked out, so a batch pays neither the
                # pool's check of a connection taken out nor Django's health check.
                connections[self.using].close()
                with self._wake:
                    self._wake.wait_for(lambda: bool(self._queue))
            with self._wake:
                batch = [self._queue[i] for i in range(min(len(self._queue), self.max_batch))]
            try:
                outcomes = self._write(batch)
                delay = 0.05
            except (OperationalError, InterfaceError) as error:
                # The database is unreachable: keep the batch queued and try again later.
                logger.warning("write-behind: database unavailable (%s); retrying", type(error).__name__)
                connections[self.using].close()
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            finally:
                connection = connections[self.using]
                if connection.errors_occurred or not connection.get_autocommit():
                    connection.close_if_unusable_or_obsolete()
            with self._wake:
                for _ in batch:
                    self._queue.popleft()
                self._done += len(batch)
                self._wake.notify_all()
            settled: dict[
                asyncio.AbstractEventLoop, list[tuple[asyncio.Future[None], BaseException | None]]
            ] = {}
            for (_, on_written, future), refusal in zip(batch, outcomes, strict=True):
                if future is not None:
                    settled.setdefault(future.get_loop(), []).append((future, refusal))
                if on_written is not None:
                    try:
                        on_written(refusal)
                    except Exception:  # a caller's callback never stops the writer
                        logger.exception("write-behind: a completion callback failed")
            for loop, futures in settled.items():
                if not loop.is_closed():  # a caller may have given up and its loop ended
                    with contextlib.suppress(RuntimeError):  # closed meanwhile
                        loop.call_soon_threadsafe(_settle_all, futures)

    def _write(self, batch: list[_Submission]) -> list[DatabaseError | None]:
        """Write the batch; for each submission, None or the error the database refused it with."""
        try:
            execute_batch(
                [statement for statements, _, _ in batch for statement in statements], using=self.using
            )
            return [None] * len(batch)
        except (OperationalError, InterfaceError):
            raise
        except DatabaseError as error:
            if len(batch) == 1:
                logger.error("write-behind: the database refused a record; dropped it", exc_info=False)
                return [error]
        outcomes: list[DatabaseError | None] = []
        for submission in batch:  # find the one the database refuses; write the others
            outcomes.extend(self._write([submission]))
        return outcomes


async def wait_committed(future: asyncio.Future[None], *, wait_s: float) -> None:
    """Wait for a future of `submit_future`; `OperationalError` when not settled within `wait_s`."""
    if future.done():
        future.result()
        return
    try:
        await asyncio.wait_for(asyncio.shield(future), wait_s)
    except TimeoutError:
        raise OperationalError("the record was not committed in time") from None


writer = WriteBehind()
# Run records whose callers wait for their commit (`WriteBehind.committed`): concurrent runs
# share one commit. A thread of their own, so a slow trace write never holds an answer.
records = WriteBehind()

M = TypeVar("M", bound=Model)


def first_written(queryset: QuerySet[M]) -> M | None:
    """`queryset.first()`, and if nothing is found while records are queued, again once they
    are written: for readers of a run this process may have just finished."""
    found = queryset.first()
    if found is None and writer.pending:
        connection = connections[queryset.db]
        if not connection.in_atomic_block:
            # Hand the connection back while waiting: the writer needs one from the same pool.
            connection.close()
        if writer.flush(timeout=2.0):
            found = queryset.first()
    return found


def _flush_at_exit() -> None:
    if writer.pending:
        writer.flush(timeout=10.0)


atexit.register(_flush_at_exit)


def _settle_all(futures: list[tuple[asyncio.Future[None], BaseException | None]]) -> None:
    for future, error in futures:
        _settle(future, error)


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
