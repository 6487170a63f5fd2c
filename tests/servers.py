"""A real daphne process serving the ASGI app against the test database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from tests.conftest import SCRIPTED_KEY

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, proc: subprocess.Popen[Any] | None = None, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"the process exited with {proc.returncode}") from None
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout_s:.0f} s")


class DaphneServer:
    """The product's daphne (`config.serve`, as `make run` starts it) in a process of its own
    (settings: tests.server_settings)."""

    def __init__(self, *, db_name: str, scripted_base_url: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.app_name = f"test-server-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.server_settings",
            "TEST_SERVER_DB_NAME": db_name,
            "TEST_SERVER_APP_NAME": self.app_name,
            "SCRIPTED_BASE_URL": scripted_base_url,
            "SCRIPTED_API_KEY": SCRIPTED_KEY,
            **(env or {}),
        }
        self.log = Path(tempfile.mkstemp(prefix="asgi-server-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DaphneServer:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                [
                    sys.executable,
                    "-m",
                    "config.serve",
                    "-b",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "config.asgi:application",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
            )
        try:
            wait_for_port(self.port, proc=self.proc)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}\n{self.log.read_text()}") from None
        return self

    def kill(self) -> None:
        """SIGKILL: no atexit hook, no flush, nothing after."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
