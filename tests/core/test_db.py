from __future__ import annotations

import asyncio
import gc
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import time
import warnings

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from core.db import connect, execute_batch_on_loop, fast_commit, send_batch
from tests.servers import ROOT


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_fast_commit_relaxes_only_its_own_transaction(settings):
    settings.DB_FAST_COMMIT = True
    with fast_commit():
        assert _synchronous_commit() == "off"
        with fast_commit():  # nested: joins the outer transaction, no savepoint
            assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"


@pytest.mark.django_db(transaction=True)
def test_fast_commit_can_be_switched_off(settings):
    settings.DB_FAST_COMMIT = False
    with fast_commit():
        assert _synchronous_commit() == "on"


_PROBE = "zz_send_batch_probe"


@pytest.fixture
def probe_table():
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {_PROBE} (id integer PRIMARY KEY, note text)")
        cursor.execute(f"TRUNCATE {_PROBE}")
    yield _PROBE
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_PROBE}")


def _stored(table: str) -> list[tuple[int, str]]:
    with connect() as other:  # a connection of its own: sees only what is committed
        return [tuple(row) for row in other.execute(f"SELECT id, note FROM {table} ORDER BY id")]  # noqa: S608


@pytest.mark.django_db(transaction=True)
def test_a_sent_batch_is_committed_as_one_transaction(probe_table):
    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608
    sent = send_batch([(insert, [1, "one"]), (insert, [2, "it's two"])])
    sent.wait(5.0)
    assert sent.done
    assert _stored(probe_table) == [(1, "one"), (2, "it's two")]
    with connection.cursor() as cursor:  # the connection is free again
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_raises_the_database_error_and_writes_nothing(probe_table):
    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608
    send_batch([(insert, [1, "first"])]).wait(5.0)
    sent = send_batch([(insert, [2, "kept only with the rest"]), (insert, [1, "a duplicate key"])])
    with pytest.raises(IntegrityError):
        sent.wait(5.0)
    assert _stored(probe_table) == [(1, "first")]
    with connection.cursor() as cursor:  # rolled back: the connection is usable, outside a transaction
        cursor.execute("SELECT 1")
    assert connection.connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_inside_a_transaction_joins_it(probe_table):
    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608
    with transaction.atomic():
        sent = send_batch([(insert, [1, "inside"])])
        assert sent.done  # run at once: the transaction goes on with its answer
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT note FROM {probe_table}")  # noqa: S608
            assert cursor.fetchall() == [("inside",)]
        transaction.set_rollback(True)
    assert _stored(probe_table) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_batch_sent_by_a_process_killed_at_once_is_still_committed(probe_table):
    """Sent means delivered: the server commits what a process sent before it died."""
    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608 - the test's own table
    script = (
        "import os, signal, django; django.setup()\n"
        "from core.db import send_batch\n"
        f"send_batch([({insert!r}, [7, 'sent'])])\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "TEST_SERVER_DB_NAME": connection.settings_dict["NAME"],
        "TEST_SERVER_APP_NAME": "send-batch-killed",
        "SCRIPTED_BASE_URL": "http://127.0.0.1:9/v1",
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, timeout=60, check=False)  # noqa: S603
    assert done.returncode == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while not _stored(probe_table) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stored(probe_table) == [(7, "sent")]


@pytest.mark.django_db(transaction=True)
def test_batches_on_an_event_loop_commit_each_as_one_transaction(probe_table):
    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608

    async def many() -> None:  # concurrent batches share the loop's connection one at a time
        await asyncio.gather(
            *(execute_batch_on_loop([(insert, [i, "a"]), (insert, [100 + i, "b"])]) for i in range(20))
        )

    asyncio.run(many())
    stored = _stored(probe_table)
    assert sorted(id_ for id_, _ in stored) == sorted([*range(20), *range(100, 120)])


@pytest.mark.django_db(transaction=True)
def test_a_refused_batch_on_an_event_loop_raises_and_the_next_one_is_written(probe_table):
    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608

    async def refused_then_kept() -> None:
        await execute_batch_on_loop([(insert, [1, "first"])])
        with pytest.raises(IntegrityError):
            await execute_batch_on_loop(
                [(insert, [2, "kept only with the rest"]), (insert, [1, "a duplicate"])]
            )
        await execute_batch_on_loop([(insert, [3, "after"])])

    asyncio.run(refused_then_kept())
    assert _stored(probe_table) == [(1, "first"), (3, "after")]


@pytest.mark.django_db(transaction=True)
def test_an_event_loop_s_connection_is_closed_once_the_loop_is_gone(probe_table):
    from core import db

    insert = f"INSERT INTO {probe_table} (id, note) VALUES (%s, %s)"  # noqa: S608

    async def one() -> int:
        await execute_batch_on_loop([(insert, [1, "one"])])
        holder = db._loop_connections[asyncio.get_running_loop()]
        assert holder.connection is not None
        return holder.connection.info.backend_pid

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pid = asyncio.run(one())
        gc.collect()  # the loop is gone, and its connection closed: not left to the collector
    assert not [w for w in caught if "deleted while still open" in str(w.message)]

    def alive() -> bool:
        with connect() as other:
            row = other.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
            return bool(row and row[0])

    deadline = time.monotonic() + 5
    while alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive()


def test_waiting_on_the_connection_takes_descriptors_above_1023():
    """A busy process has more than 1023 open descriptors; `select` refuses those, `poll` does not."""
    from core.db import _wait_for

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2048 <= hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, hard))
    ours, theirs = socket.socketpair()
    high = os.dup2(ours.fileno(), 2000)
    try:
        theirs.send(b"x")
        started = time.monotonic()
        _wait_for(high, select.POLLIN, 5.0)
        assert time.monotonic() - started < 5.0  # woken by the data, not by the timeout
        assert os.read(high, 1) == b"x"
    finally:
        os.close(high)
        ours.close()
        theirs.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
