"""A run's storage workspace (the S3-compatible server of the storage tests): a step output
over WORKFLOW_MAX_STEP_BYTES is moved there and referenced in the journal, the next step gets
the output back, and the research workflow writes its report there."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakes.openai_server import ChatReply
from tests.storage_kit.conftest import moto_server, s3_settings  # noqa: F401 - fixtures
from workflows import artifacts, services
from workflows.models import StepAttempt, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


def _start(actor: Any, workflow_id: str, data: Any) -> WorkflowRun:
    run = services.run_start(actor=actor, workflow_id=workflow_id, input_data=data)
    run.refresh_from_db()
    return run


@pytest.mark.usefixtures("s3_settings")
def test_a_large_output_is_moved_to_the_workspace_and_referenced(actor: Any, api_client: Any) -> None:
    run = _start(actor, "t-big", {"text": "ab"})
    assert run.status == "success", run.error
    assert artifacts.is_ref(run.output)
    output: Any = run.output
    where = output[artifacts.REF]
    assert where["workspace"] == f"wf-{run.pk.hex}"
    assert where["bytes"] > 256 * 1024
    assert json.loads(artifacts.read(output)) == {"text": "ab" * 300_000}
    row = StepAttempt.objects.get(run=run, path="0:big")
    assert row.output == run.output  # the journal keeps the reference, not the value
    body = api_client.get(f"/api/workflows/t-big/runs/{run.pk}").json()
    assert body["result"] == run.output
    assert body["steps"]["0:big"]["output"] == run.output


@pytest.mark.usefixtures("s3_settings")
def test_the_next_step_gets_the_stored_output_back(actor: Any) -> None:
    run = _start(actor, "t-big-then", {"text": "xyz"})
    assert run.status == "success", run.error
    assert run.output == {"size": 900_000}
    assert artifacts.is_ref(StepAttempt.objects.get(run=run, path="1:measure").input)


def test_without_storage_a_large_output_still_fails_the_step(actor: Any) -> None:
    run = _start(actor, "t-big", {"text": "ab"})
    assert run.status == "failed"
    error: Any = run.error
    assert error["code"] == "output_too_large"


@pytest.mark.usefixtures("s3_settings")
def test_the_research_report_is_written_to_the_workspace(actor: Any, openai_server: Any) -> None:
    from agents.models import ToolCallGate
    from agents.runs.services import tool_call_decide
    from agents.services import agent_save

    agent_save(slug="assistant", name="Assistant", instructions="Helps.", model="scripted/gpt-test")
    openai_server.respond_with(lambda body: ChatReply(text="Tide pools hold anemones."))
    run = _start(actor, "research", {"topic": "tide pools"})
    assert run.status == "suspended", run.error
    gate = ToolCallGate.objects.get(run__state__external__workflowRunId=str(run.pk))
    tool_call_decide(
        actor=actor, agent_id="assistant", run_id=gate.run_id, tool_call_id=gate.tool_call_id, approve=True
    )
    run.refresh_from_db()
    assert run.status == "success", run.error
    output: Any = run.output
    assert output["report"] == "Tide pools hold anemones."
    ref = output["artifact"]
    assert ref[artifacts.REF]["key"].endswith("report.md")
    assert artifacts.read(ref).decode() == "# tide pools\n\nTide pools hold anemones.\n"
