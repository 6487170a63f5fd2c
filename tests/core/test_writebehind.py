"""The write-behind thread: submissions written whole, past a dropped connection, never unbounded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from django.db import connection

from core.db import connect
from core.writebehind import WriteBehind

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def probe_table() -> Iterator[str]:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE wb_probe (note text PRIMARY KEY, pid int NOT NULL)")
    yield "wb_probe"
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE wb_probe")


def _notes() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT note, pid FROM wb_probe")
        return dict(cursor.fetchall())


def _insert(note: str) -> list[tuple[str, list[Any]]]:
    return [("INSERT INTO wb_probe (note, pid) SELECT %s, pg_backend_pid()", [note])]


def test_submissions_are_written_whole_and_a_refused_one_does_not_hold_up_the_rest(
    probe_table: str, caplog: pytest.LogCaptureFixture
) -> None:
    behind = WriteBehind()
    behind.submit(_insert("a"))
    behind.submit([*_insert("b"), *_insert("a")])  # refused (duplicate key): neither row is kept
    behind.submit(_insert("c"))
    with caplog.at_level(logging.ERROR, logger="core.writebehind"):
        assert behind.flush(timeout=5)
    assert set(_notes()) == {"a", "c"}
    assert "refused a record" in caplog.text
    assert "INSERT" not in caplog.text  # values and statements stay out of the log


def test_a_dropped_connection_is_retried_and_nothing_is_lost(probe_table: str) -> None:
    behind = WriteBehind()
    behind.submit(_insert("first"))
    assert behind.flush(timeout=5)
    first_pid = _notes()["first"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [first_pid])

    behind.submit(_insert("second"))
    assert behind.flush(timeout=10)
    notes = _notes()
    assert "second" in notes
    assert notes["second"] != first_pid


def test_a_full_queue_writes_inline_and_the_caller_sees_errors(probe_table: str) -> None:
    behind = WriteBehind(max_pending=0)
    behind.submit(_insert("inline"))
    assert "inline" in _notes()  # no flush needed: written before submit returned
    with pytest.raises(Exception) as refused:
        behind.submit(_insert("inline"))
    assert isinstance(refused.value.__cause__, psycopg.errors.UniqueViolation) or "duplicate" in str(
        refused.value
    )


def test_a_celery_task_ends_with_its_records_written(probe_table: str) -> None:
    from celery import signals

    from core.writebehind import writer

    with connect() as blocker:
        blocker.execute("LOCK TABLE wb_probe IN EXCLUSIVE MODE")  # the writer waits on this
        writer.submit(_insert("from a task"))
        threading.Timer(0.3, blocker.rollback).start()
        signals.task_postrun.send(sender=None)  # a worker child may exit right after: no atexit there
        assert writer.pending == 0
    assert "from a task" in _notes()


def test_committed_returns_once_written_and_raises_what_the_database_refused(probe_table: str) -> None:
    import asyncio

    from django.db import IntegrityError

    behind = WriteBehind()

    async def write(note: str) -> str:
        await behind.committed(lambda done: behind.submit(_insert(note), on_written=done), wait_s=10)
        return note

    async def many() -> list[Any]:
        return await asyncio.gather(*(write(f"n{i}") for i in range(50)), write("n0"), return_exceptions=True)

    outcomes = asyncio.run(many())

    written = _notes()
    assert {f"n{i}" for i in range(50)} == set(written)
    assert outcomes[:50] == [f"n{i}" for i in range(50)]
    assert isinstance(outcomes[50], IntegrityError)  # the duplicate: refused, and its caller hears it


def test_committed_gives_up_after_its_wait(probe_table: str) -> None:
    import asyncio

    from django.db import OperationalError

    behind = WriteBehind()
    with connect() as blocker:
        blocker.execute("LOCK TABLE wb_probe IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(OperationalError, match="not committed in time"):
            asyncio.run(
                behind.committed(lambda done: behind.submit(_insert("late"), on_written=done), wait_s=0.3)
            )
        blocker.rollback()
    assert behind.flush(timeout=5)
    assert "late" in _notes()  # written once the lock is gone
