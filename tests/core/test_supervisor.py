"""`make run`'s supervisor: a worker killed with SIGKILL is restarted while web keeps serving."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection

from config.supervisor import programs, supervisor_config
from tests.conftest import SCRIPTED_KEY
from tests.servers import ROOT, free_port, wait_for_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

VENV_BIN = Path(sys.executable).parent


class Supervisor:
    def __init__(self, run_dir: Path, port: int) -> None:
        self.port = port
        self.config = run_dir / "supervisord.conf"
        self.config.write_text(
            supervisor_config(
                run_dir=run_dir,
                cwd=ROOT,
                programs=programs(venv=VENV_BIN.parent, host="127.0.0.1", port=port, concurrency=1),
            )
        )

    def ctl(self, *args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own binary and arguments
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        return done.stdout.strip()

    def pid(self, name: str) -> int:
        value = self.ctl("pid", name)
        return int(value) if value.isdigit() else 0

    def wait_running(self, name: str, *, other_than: int = 0, timeout_s: float = 60) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            pid = self.pid(name)
            if pid and pid != other_than and "RUNNING" in self.ctl("status", name):
                return pid
            time.sleep(0.2)
        raise AssertionError(f"{name} not running: {self.ctl('status')}")


@pytest.fixture
def supervisor(openai_server: Any) -> Iterator[Supervisor]:
    run_dir = Path(tempfile.mkdtemp(prefix="sv-", dir="/tmp"))  # a short path: it holds a socket
    port = free_port()
    sup = Supervisor(run_dir, port)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.server_settings",
        "TEST_SERVER_DB_NAME": connection.settings_dict["NAME"],
        "TEST_SERVER_APP_NAME": "test-supervised",
        "SCRIPTED_BASE_URL": openai_server.base_url,
        "SCRIPTED_API_KEY": SCRIPTED_KEY,
    }
    proc = subprocess.Popen(  # noqa: S603
        [str(VENV_BIN / "supervisord"), "-c", str(sup.config)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc=proc, timeout_s=60)
        yield sup
    finally:
        proc.send_signal(signal.SIGTERM)  # supervisord stops its programs, then exits
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(run_dir, ignore_errors=True)


def test_a_killed_worker_is_restarted_and_web_keeps_serving(supervisor: Supervisor) -> None:
    url = f"http://127.0.0.1:{supervisor.port}/api/health"
    web = supervisor.wait_running("web")
    worker = supervisor.wait_running("worker")
    supervisor.wait_running("beat")

    os.kill(worker, signal.SIGKILL)
    answers = []
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # web answers while the worker is down
        answers.append(httpx.get(url, timeout=10).status_code)
        time.sleep(0.2)
    restarted = supervisor.wait_running("worker", other_than=worker)

    assert restarted != worker
    assert supervisor.pid("web") == web
    assert answers
    assert set(answers) == {200}
    assert httpx.get(url, timeout=10).status_code == 200
