"""`make run` writes .env on first start, so commands typed by hand (the README's
`manage.py drf_create_token admin`) get the same settings without DEBUG=true, and storage
coordinations have a key to sign their webhooks with."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT


def _project(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "ensure_env.sh", tmp_path / "scripts" / "ensure_env.sh")
    return tmp_path


def _run(project: Path) -> None:
    env = {**os.environ, "PYTHON": sys.executable}
    subprocess.run(["bash", str(project / "scripts" / "ensure_env.sh")], check=True, env=env)  # noqa: S603, S607


def test_first_start_writes_env_once(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _run(project)
    written = (project / ".env").read_text()
    values = dict(line.split("=", 1) for line in written.splitlines() if line and not line.startswith("#"))
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 40
    assert len(values["WEBHOOK_SIGNING_SECRET"]) >= 40  # storage coordinations work out of the box
    assert values["WEBHOOK_SIGNING_SECRET"] != values["SECRET_KEY"]
    assert (project / ".env").stat().st_mode & 0o077 == 0  # the key is readable by its owner only

    _run(project)
    assert (project / ".env").read_text() == written  # never rewritten
