"""Database helpers shared by the apps."""

from __future__ import annotations

import asyncio
import functools
import select
import time
import weakref
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import psycopg
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction

P = ParamSpec("P")
R = TypeVar("R")


def release_connections() -> None:
    """Close (with the pool: hand back) this thread's connections that are idle and obsolete.

    Django's `close_old_connections`, except that a connection inside a transaction is
    left alone (a test's, or a caller's that is still working).
    """
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()


def releasing(func: Callable[P, R]) -> Callable[P, R]:
    """`func`, handing this thread's database connections back when it returns.

    For work run on threads that are not a request's (executors, tool threads): with
    the connection pool (`DB_POOL`) a connection left open in such a thread stays
    checked out of the pool until the thread ends, or for good when the thread is
    reused, and enough of them empty the pool.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        finally:
            release_connections()

    return wrapper


def db_to_async(func: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """`func` as a coroutine run on an executor thread, handing back its connections.

    `sync_to_async(..., thread_sensitive=False)` for code that touches the database:
    without `releasing`, each executor thread keeps a pooled connection checked out for
    as long as the thread lives, and a few dozen such calls empty the pool.
    """
    return sync_to_async(releasing(func), thread_sensitive=False)


@contextmanager
def fast_commit(using: str = "default") -> Iterator[None]:
    """A transaction whose commit does not wait for the WAL flush to disk.

    Used for high-volume records on the request path (runs, spans, messages).
    With `synchronous_commit=off` a crash of the *database server* can lose the
    last few hundred milliseconds of such commits (never corrupt them); a crash
    of our own processes loses nothing that was committed. Set
    `DB_FAST_COMMIT=false` to wait for every flush.
    """
    connection = connections[using]
    if connection.in_atomic_block:  # the outer transaction decides how it commits
        with transaction.atomic(using=using, savepoint=False):
            yield
        return
    with transaction.atomic(using=using):
        if settings.DB_FAST_COMMIT:
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


Statement = tuple[str, list[Any]]


def execute_batch(statements: list[Statement], using: str = "default") -> None:
    """Run several statements in one round trip to the server, as one transaction.

    The transaction commits without waiting for the WAL flush (as `fast_commit`).
    Inside a caller's transaction the statements simply join it. Statements use
    `%s` placeholders, bound client-side (`bound`), which is what lets one call carry
    several statements.
    """
    connection = connections[using]
    with connection.cursor() as cursor:
        body = bound(cursor.cursor, statements)
        if connection.in_atomic_block:
            cursor.execute(body)
            return
        try:
            cursor.execute(as_transaction(body))
        except Exception:
            cursor.execute("ROLLBACK")
            raise


def bound(
    cursor: psycopg.ClientCursor[Any] | psycopg.AsyncClientCursor[Any], statements: list[Statement]
) -> str:
    """The statements with their values bound client-side, as one command string.

    Each statement is bound on its own: psycopg keeps the parsed form of a short statement
    (its cache holds statements up to 4 KiB), where the concatenation of a batch, longer
    and different every time, would be parsed again for each batch.
    """
    return ";\n".join(cursor.mogrify(sql, values) for sql, values in statements)


def as_transaction(body: str) -> str:
    """`body` (bound statements) as one command string that commits them as one transaction,
    without waiting for the WAL flush when `DB_FAST_COMMIT` is on (as `fast_commit`)."""
    relax = "SET LOCAL synchronous_commit TO OFF;\n" if settings.DB_FAST_COMMIT else ""
    return f"BEGIN;\n{relax}{body};\nCOMMIT"


def fast_commit_wanted(using: str = "default") -> bool:
    """Whether a lone statement should relax its own commit (see `fast_commit`).

    True outside a transaction when `DB_FAST_COMMIT` is on: a statement can then
    carry `set_config('synchronous_commit', 'off', true)`, which applies to the
    implicit transaction of that one statement. Inside a caller's transaction the
    caller decides.
    """
    return bool(settings.DB_FAST_COMMIT) and not connections[using].in_atomic_block


def fetch_prepared(
    sql: str, params: Sequence[Any] | Mapping[str, Any], using: str = "default"
) -> list[tuple[Any, ...]]:
    """Run one statement with server-side binding, prepared after a few runs; its rows.

    One round trip, and PostgreSQL stops re-planning the statement once psycopg has
    prepared it (Django's cursors bind client-side, so every call is parsed and planned
    anew). Outside a transaction the statement is its own transaction. Errors are
    Django's database errors, as with a Django cursor.
    """
    connection = connections[using]
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(sql, params, prepare=True)
        return cursor.fetchall() if cursor.description is not None else []


def _params(using: str) -> dict[str, Any]:
    params = dict(connections[using].get_connection_params())
    for django_only in ("cursor_factory", "context"):
        params.pop(django_only, None)
    return params


def connect(using: str = "default", *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A psycopg connection of its own to the database `using` (Django's settings, not its
    pool): for a listener, or anything that must not share a request's connection."""
    return psycopg.Connection.connect(**_params(using), autocommit=autocommit)


class _LoopConnection:
    """One event loop's own connection, used by one batch at a time."""

    __slots__ = ("connection", "lock")

    def __init__(self) -> None:
        self.connection: psycopg.AsyncConnection[Any] | None = None
        self.lock = asyncio.Lock()


_loop_connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopConnection] = (
    weakref.WeakKeyDictionary()
)


def _finish(holder: _LoopConnection) -> None:
    """Close a loop's connection once the loop is gone (nothing can await it any more)."""
    if holder.connection is not None and not holder.connection.closed:
        holder.connection.pgconn.finish()


async def execute_batch_on_loop(statements: list[Statement], using: str = "default") -> None:
    """`execute_batch` from an event loop, without a thread hop: on a connection of the
    loop's own (autocommit; opened on first use, dropped when it breaks or the loop is
    collected), one batch at a time. Being another connection, it sees only what is
    committed: not for use inside a caller's transaction. Errors are Django's database errors.
    """
    loop = asyncio.get_running_loop()
    holder = _loop_connections.get(loop)
    if holder is None:
        holder = _loop_connections[loop] = _LoopConnection()
        weakref.finalize(loop, _finish, holder)
    async with holder.lock:
        with connections[using].wrap_database_errors:
            if holder.connection is None or holder.connection.closed:
                holder.connection = await psycopg.AsyncConnection.connect(**_params(using), autocommit=True)
            connection = holder.connection
            query = as_transaction(bound(psycopg.AsyncClientCursor(connection), statements))
            try:
                await connection.execute(query.encode(connection.info.encoding), prepare=False)
            except psycopg.Error:
                if connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    await connection.close()  # broken, or left in a transaction: the next batch opens another
                raise


class SentBatch:
    """Statements sent on this thread's connection, committed by the server while the caller does
    other work (libpq's asynchronous command processing); `wait()` reads their outcome.

    Until `wait()` returns, the connection must not be used for anything else (libpq runs one
    command string at a time): the caller waits before its next use of the database, also on
    its error paths. Sent means delivered: a process killed after `send_batch` returns leaves
    the statements to the server, which commits them (as a commit of `execute_batch` whose
    answer never arrived).
    """

    __slots__ = ("_connection", "_done", "using")

    def __init__(self, connection: psycopg.Connection[Any], using: str, *, done: bool = False) -> None:
        self._connection = connection
        self._done = done
        self.using = using

    @property
    def done(self) -> bool:
        return self._done

    def wait(self, timeout_s: float) -> None:
        """Read the outcome: returns once committed; raises the database's error (as Django's
        database errors) when it refused them, which are then rolled back."""
        if self._done:
            return
        self._done = True
        django_connection = connections[self.using]
        with django_connection.wrap_database_errors:
            try:
                failure = _results(self._connection, timeout_s)
            except psycopg.OperationalError:
                self._connection.close()  # a command still in flight: the connection is done for
                raise
            if failure is not None:
                if self._connection.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                    self._connection.pgconn.exec_(b"ROLLBACK")
                raise failure


def send_batch(statements: list[Statement], using: str = "default") -> SentBatch:
    """Send `statements` as one transaction (committed without waiting for the WAL flush, as
    `execute_batch`) and return without waiting for the server: see `SentBatch`.

    Inside a caller's transaction they join it instead, run at once (`execute_batch`): the
    transaction needs their answer before it goes on, and the batch returned is done.
    """
    django_connection = connections[using]
    if django_connection.in_atomic_block:
        execute_batch(statements, using=using)
        return SentBatch(django_connection.connection, using, done=True)
    django_connection.ensure_connection()
    connection: psycopg.Connection[Any] = django_connection.connection
    with django_connection.wrap_database_errors:
        query = as_transaction(bound(psycopg.ClientCursor(connection), statements))
        pgconn = connection.pgconn
        pgconn.send_query(query.encode(connection.info.encoding))  # raises when it cannot
        while pgconn.flush():  # a non-blocking connection: wait until everything is on the wire
            _wait_for(pgconn.socket, select.POLLOUT, settings.DB_POOL_TIMEOUT_S)
    return SentBatch(connection, using)


def _results(connection: psycopg.Connection[Any], timeout_s: float) -> psycopg.Error | None:
    """Consume every result of the command string in flight; the first error, or None."""
    pgconn = connection.pgconn
    failure: psycopg.Error | None = None
    deadline = time.monotonic() + timeout_s
    while True:
        pgconn.consume_input()
        while not pgconn.is_busy():
            result = pgconn.get_result()
            if result is None:
                return failure
            if failure is None and result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
                sqlstate = (result.error_field(psycopg.pq.DiagnosticField.SQLSTATE) or b"").decode()
                message = (result.error_message or b"").decode(errors="replace")
                failure = _error_class(sqlstate)(message)
        left = deadline - time.monotonic()
        if left <= 0:
            raise psycopg.OperationalError("the database did not answer in time")
        _wait_for(pgconn.socket, select.POLLIN, left)


def _error_class(sqlstate: str) -> type[psycopg.Error]:
    try:
        return psycopg.errors.lookup(sqlstate)
    except KeyError:
        return psycopg.DatabaseError


def _wait_for(fd: int, events: int, timeout_s: float) -> None:
    """Wait until `fd` is ready for `events` or `timeout_s` passes: `poll`, which, unlike
    `select`, takes descriptors above 1023 (a busy process has many open sockets)."""
    poller = select.poll()
    poller.register(fd, events)
    poller.poll(max(0, int(timeout_s * 1000)))
