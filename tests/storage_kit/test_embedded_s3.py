"""The embedded S3 server `make run` starts when no S3_ENDPOINT_URL is set (config/supervisor.py):
its own command, as supervisord runs it, serves a workspace round trip."""

# mypy: disable-error-code="union-attr"
from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from config.supervisor import embedded_s3
from storage_kit.models import Lifecycle, Workspace
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from tests.servers import free_port, wait_for_port
from tests.storage_kit.conftest import unique

VENV = Path(sys.executable).parent.parent


def test_it_runs_only_without_an_endpoint_and_can_be_turned_off():
    program, variables = embedded_s3(venv=VENV, environ={}, web_port=8000)
    assert program is not None
    assert program.name == "s3"
    assert variables["S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert embedded_s3(venv=VENV, environ={"S3_ENDPOINT_URL": "http://minio:9000"}, web_port=8000) == (
        None,
        {},
    )
    assert embedded_s3(venv=VENV, environ={"S3_EMBEDDED": "false"}, web_port=8000) == (None, {})
    _, moved = embedded_s3(venv=VENV, environ={"S3_EMBEDDED_PORT": "9555"}, web_port=8000)
    assert moved["S3_ENDPOINT_URL"] == "http://127.0.0.1:9555"


@pytest.fixture
def embedded(settings: Any) -> Iterator[dict[str, str]]:
    port = free_port()
    program, variables = embedded_s3(venv=VENV, environ={"S3_EMBEDDED_PORT": str(port)}, web_port=8000)
    assert program is not None
    proc = subprocess.Popen(  # noqa: S603 - the command supervisord would run
        shlex.split(program.command), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, proc=proc)
        settings.S3_ENDPOINT_URL = variables["S3_ENDPOINT_URL"]
        settings.S3_ACCESS_KEY_ID = variables["S3_ACCESS_KEY_ID"]
        settings.S3_SECRET_ACCESS_KEY = variables["S3_SECRET_ACCESS_KEY"]
        settings.STORAGE_IAM_ENDPOINT_URL = ""
        settings.STORAGE_STS_ENDPOINT_URL = ""
        settings.STORAGE_CREDENTIALS_STRATEGY = "iam_user"
        yield variables
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.django_db
def test_a_workspace_round_trip_on_the_embedded_server(embedded, tenant, actor):
    name = unique("ws")
    handle = workspace_create(actor=actor, name=name, ttl_s=600)
    assert handle.credentials is not None
    handle.objects.put("notes/one.md", "first")
    handle.objects.put("notes/two.md", "second")
    assert handle.objects.get("notes/one.md") == b"first"
    assert [o.key for o in handle.objects.list("notes/")] == ["notes/one.md", "notes/two.md"]

    report = workspace_teardown(actor=actor, workspace_id=handle.id)
    assert report.ok, report.errors
    assert Workspace.objects.get(pk=handle.id).status == Lifecycle.TORN_DOWN
