"""`make run`'s banner names where the web process really listens (HOST, WEB_PORT)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_banner_shows_the_configured_host_and_port(settings: Any, tmp_path: Path) -> None:
    settings.BASE_DIR = tmp_path  # the generated password goes to tmp_path/var, not the checkout
    settings.WEB_HOST = "0.0.0.0"  # noqa: S104 - only printed
    settings.WEB_PORT = 8123
    out = io.StringIO()

    call_command("seed_demo", stdout=out)

    assert "Chat UI     http://0.0.0.0:8123/" in out.getvalue()
    assert ":8000" not in out.getvalue()
