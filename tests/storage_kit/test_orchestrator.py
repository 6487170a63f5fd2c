# mypy: disable-error-code="union-attr,arg-type,misc"
"""The orchestrator pattern end to end: a workspace per run, tools reach it through the request context,
teardown in every case, and no credential anywhere a model, a message, a trace or a log can see it."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.management import call_command

from agents.models import Run
from core.context import RequestContext
from observability.models import Span, Trace
from storage_kit import workspace_for_run
from storage_kit.credentials import credential_load
from storage_kit.models import Lifecycle, Workspace
from tests.fakes.openai_server import ChatReply, ToolCall
from tests.storage_kit.conftest import unique


@pytest.mark.django_db
def test_context_manager_tears_down_when_the_run_raises(s3_settings, tenant, actor):
    name = unique("boom")
    context = RequestContext(tenant_id=tenant.pk)
    seen = {}

    def crash() -> None:
        with workspace_for_run(context=context, name=name) as run:
            seen["run"] = run
            assert run.context.resources["storage"].bucket == name
            assert "storage" not in run.context.as_public_dict()
            run.handle.objects.put("partial.txt", "x")
            raise RuntimeError("agent crashed")

    with pytest.raises(RuntimeError, match="agent crashed"):
        crash()
    run = seen["run"]
    assert run.report.ok, run.report.errors
    assert Workspace.objects.get(name=name).status == Lifecycle.TORN_DOWN


@pytest.mark.django_db(transaction=True)
def test_demo_run_writes_notes_and_leaks_no_credential(s3_settings, openai_server, tenant, actor, caplog):
    caplog.set_level(logging.DEBUG)
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(
                    name="workspace_append_note",
                    arguments={"title": "Tides", "text": "Twice a day."},
                    id="n1",
                )
            ]
        ),
        ChatReply(tool_calls=[ToolCall(name="workspace_list_notes", arguments={}, id="n2")]),
        ChatReply(text="I wrote one note about tides."),
    )
    out = io.StringIO()
    call_command("storage_demo_run", tenant=tenant.slug, topic="tides", model="scripted/gpt-test", stdout=out)
    output = out.getvalue()
    assert "wrote 1 note(s): notes/tides.md" in output
    assert "torn down: clean" in output

    workspace = Workspace.objects.get(name__startswith="research-")
    assert workspace.status == Lifecycle.TORN_DOWN
    creds = credential_load(workspace.credential)
    # The tool's result went back to the model: the note key, nothing about keys.
    tool_messages = [m for r in openai_server.requests for m in r.messages if m["role"] == "tool"]
    assert any("notes/tides.md" in json.dumps(m) for m in tool_messages)

    planted = [creds.secret_access_key, s3_settings.admin_secret]
    haystacks = {
        "model requests": json.dumps([r.messages for r in openai_server.requests]),
        "spans": json.dumps(list(Span.objects.values("name", "attributes", "error")), default=str),
        "traces": json.dumps(list(Trace.objects.values("name", "attributes")), default=str),
        "runs": json.dumps(list(Run.objects.values()), default=str),
        "logs": caplog.text,
        "command output": output,
    }
    for where, text in haystacks.items():
        for secret in planted:
            assert secret not in text, f"a credential leaked into {where}"
    # Storage operations were traced, inside the run's trace.
    storage_spans = Span.objects.filter(kind="storage", name="storage.put")
    assert storage_spans.exists()
    assert storage_spans.first().attributes["key"] == "notes/tides.md"


@pytest.mark.django_db(transaction=True)
def test_demo_run_without_a_usable_model_fails_as_a_command_and_tears_down(
    s3_settings, openai_server, tenant
):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"The run failed: .*nowhere"):
        call_command("storage_demo_run", tenant=tenant.slug, topic="tides", model="nowhere/gpt-test")
    workspace = Workspace.objects.get(name__startswith="research-")
    assert workspace.status == Lifecycle.TORN_DOWN
