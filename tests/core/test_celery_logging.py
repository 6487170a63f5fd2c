"""A real Celery worker process logs through the redacting filter, like every other process."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from typing import Any

import pytest

from config.celery import app
from tests.core.workers import worker_queue, worker_start

SECRET = os.environ["OPENAI_API_KEY"]  # a configured secret (see config.settings.test)


def _read(stream: Any, lines: list[str]) -> None:
    for line in iter(stream.readline, ""):
        lines.append(line)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:task_always_eager has no effect on send_task")
def test_a_worker_process_redacts_secrets_from_its_log_lines(settings: Any) -> None:
    queue = worker_queue("log-test")
    proc = worker_start(
        queue,
        "--pool=solo",
        "--loglevel=INFO",
        redis_url=settings.REDIS_URL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(target=_read, args=(proc.stdout, lines), daemon=True)
    reader.start()
    try:
        app.send_task("tests.log_secret", args=[f"the key {SECRET}"], queue=queue)
        deadline = time.monotonic() + 90
        while not any("task done" in line for line in lines) and time.monotonic() < deadline:
            assert proc.poll() is None, "".join(lines)
            time.sleep(0.1)
    finally:
        proc.terminate()
        proc.wait(30)
        reader.join(5)
    output = "".join(lines)
    assert "task done" in output, output
    assert "task saw the key [REDACTED]" in output
    assert "printed the key [REDACTED]" in output
    assert "ValueError: failed with the key [REDACTED]" in output
    assert SECRET not in output
