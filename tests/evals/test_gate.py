"""`manage.py eval_gate` on the demo dataset against the demo agent and the scripted demo model:
it fails with the failing-on-purpose case and passes without it."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from agents.management.commands.seed_demo import DEMO_INSTRUCTIONS, DEMO_MEMORY
from agents.services import agent_save, tools_sync
from tests.conftest import SCRIPTED_KEY
from tests.fakes.responders import demo_responder

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "evals" / "fixtures" / "demo.yaml"


@pytest.fixture
def demo_agent(openai_server: Any) -> Any:
    """The demo agent as `seed_demo` defines it, on the scripted demo model."""
    tools_sync()
    openai_server.respond_with(demo_responder)
    return agent_save(
        slug="assistant",
        name="Demo assistant",
        instructions=DEMO_INSTRUCTIONS,
        model="scripted/demo",
        memory=DEMO_MEMORY,
        tools=["current_time", "convert_units"],
    )


def gate(tenant: Any, openai_server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    """The gate as CI runs it: its own process, its exit status."""
    from django.db import connection

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.evals.worker_settings",
        "EVALS_TEST_DB_NAME": connection.settings_dict["NAME"],
        "SCRIPTED_BASE_URL": openai_server.base_url,
        "SCRIPTED_API_KEY": SCRIPTED_KEY,
        "EVALS_CASE_LEASE_S": "600",
    }
    return subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [
            sys.executable,
            "manage.py",
            "eval_gate",
            str(DEMO),
            "--agent",
            "assistant",
            "--tenant",
            tenant.slug,
            *args,
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_gate_fails_on_the_failing_case_and_passes_without_it(
    tenant, demo_agent, openai_server, tmp_path
):
    junit = tmp_path / "evals.xml"
    failing = gate(tenant, openai_server, "--junit", str(junit))
    assert failing.returncode == 1, failing.stderr
    assert "capital-of-france#0 failed" in failing.stdout
    assert "contains: The answer does not contain 'paris'." in failing.stdout
    assert failing.stdout.rstrip().endswith("FAILED")
    assert "The eval gate failed" in failing.stderr
    suite = ET.parse(junit).getroot()  # noqa: S314 - our own file
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "1", "0")
    failed = [c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None]
    assert failed == ["capital-of-france#0"]

    passing = gate(tenant, openai_server, "--exclude-tag", "failing-on-purpose")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "cases: 4  passed: 4  failed: 0  errored: 0" in passing.stdout
    assert passing.stdout.rstrip().endswith("PASSED")


@pytest.mark.django_db
def test_thresholds_decide(tenant, demo_agent, capsys):
    call_command("eval_gate", str(DEMO), agent="assistant", tenant=tenant.slug, threshold=["contains=0.6"])
    out = capsys.readouterr().out
    assert "contains                  0.667     0.600  ok" in out
    with pytest.raises(CommandError) as caught:
        call_command("eval_gate", "demo", agent="assistant", tenant=tenant.slug, threshold=["contains=0.7"])
    assert caught.value.returncode == 1
    assert "contains                  0.667     0.700  BELOW" in capsys.readouterr().out


@pytest.mark.django_db
def test_a_threshold_for_a_scorer_that_never_ran_fails(tenant, demo_agent, capsys):
    with pytest.raises(CommandError):
        call_command(
            "eval_gate",
            str(DEMO),
            agent="assistant",
            tenant=tenant.slug,
            threshold=["contians=0.5"],
            exclude_tag=["failing-on-purpose"],
        )
    assert "contians                      -     0.500  BELOW (no scores)" in capsys.readouterr().out


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["contains", "contains=2", "=0.5", "contains=abc"])
def test_a_malformed_threshold_is_refused(tenant, value):
    with pytest.raises(CommandError, match="expected scorer="):
        call_command("eval_gate", str(DEMO), agent="assistant", tenant=tenant.slug, threshold=[value])
