"""Database helpers shared by the apps."""

from __future__ import annotations

import functools
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
    `%s` placeholders; Django's psycopg cursor binds them client-side, which is
    what lets one call carry several statements.
    """
    connection = connections[using]
    body = ";\n".join(sql for sql, _ in statements)
    params = [value for _, values in statements for value in values]
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            cursor.execute(body, params)
            return
        relax = "SET LOCAL synchronous_commit TO OFF;\n" if settings.DB_FAST_COMMIT else ""
        try:
            cursor.execute(f"BEGIN;\n{relax}{body};\nCOMMIT", params)
        except Exception:
            cursor.execute("ROLLBACK")
            raise


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


def connect(using: str = "default", *, autocommit: bool = False) -> psycopg.Connection[Any]:
    """A psycopg connection of its own to the database `using` (Django's settings, not its
    pool): for a listener, or anything that must not share a request's connection."""
    params = dict(connections[using].get_connection_params())
    for django_only in ("cursor_factory", "context"):
        params.pop(django_only, None)
    return psycopg.Connection.connect(**params, autocommit=autocommit)
