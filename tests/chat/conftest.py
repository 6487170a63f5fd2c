from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.chat import scripted_runtime
from tests.conftest import SCRIPTED_KEY


@pytest.fixture
def scripted_chat(openai_server: Any, settings: Any) -> Any:
    """The chat edges driven by the scripted runtime against the scripted model server."""
    settings.CHAT_RUNTIME = "tests.chat.scripted_runtime.ScriptedRuntime"
    os.environ["SCRIPTED_BASE_URL"] = openai_server.base_url
    scripted_runtime.PERSISTED.clear()
    return openai_server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def daphne_process(django_db_blocker: Any, openai_server: Any) -> Iterator[str]:
    """A real daphne (as `make run` starts it: `config.serve`) on a free port, against the test
    database; its URL while it runs."""
    from django.db import connection

    with django_db_blocker.unblock():
        db_name = connection.settings_dict["NAME"]
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.chat.daphne_settings",
        "CHAT_TEST_DB_NAME": db_name,
        "SCRIPTED_BASE_URL": openai_server.base_url,
        "SCRIPTED_API_KEY": SCRIPTED_KEY,
    }
    log = tempfile.NamedTemporaryFile(prefix="daphne-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).resolve().parents[2],
    )
    # A loaded machine took over 30 s to import the app: wait longer than that before failing.
    deadline = time.monotonic() + float(os.environ.get("TEST_SERVER_START_S", "120"))
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(Path(log.name).read_text()) from None
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("daphne did not start: " + Path(log.name).read_text())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:  # a run or a socket still open: the test is over, stop it
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def daphne_url(django_db_setup: Any, django_db_blocker: Any, _openai_server_session: Any) -> Iterator[str]:
    """A real daphne on a free port, against the test database.

    Tests using it need `transactional_db` so the server process sees their rows.
    """
    with daphne_process(django_db_blocker, _openai_server_session) as url:
        yield url


@pytest.fixture
def second_daphne_url(daphne_url: str, django_db_blocker: Any, _openai_server_session: Any) -> Iterator[str]:
    """Another daphne process beside `daphne_url`, for what must work across processes."""
    with daphne_process(django_db_blocker, _openai_server_session) as url:
        yield url


@pytest.fixture
def demo_agent(openai_server: Any, transactional_db: None) -> Any:
    """The agent `demo` on the real runtime, with the availability tool, on the scripted model."""
    from agents.services import agent_save, tools_sync
    from tests.chat import tools  # noqa: F401  (registers the tool)

    tools_sync()
    return agent_save(
        slug="demo",
        name="Demo",
        instructions="You help people book machines.",
        model="scripted/gpt-test",
        max_steps=4,
        tools=["chat_check_availability", "chat_book_machine", "chat_pick_slot"],
    )
