"""Run records written behind the answer: complete, found by readers at once, never for idempotent runs."""

from __future__ import annotations

from typing import Any

import pytest

from agents.models import Run
from agents.runtime import RunOptions, generate
from core.context import RequestContext
from core.writebehind import writer
from observability.models import Span, Trace
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_finished_run_is_written_behind_with_its_trace(
    settings: Any, make_agent: Any, user: Any, openai_server: Any
) -> None:
    settings.RUN_RECORDS_WRITE_BEHIND = True
    make_agent()
    openai_server.script(ChatReply(text="Behind you."))
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)

    result = generate("helper", context=ctx, prompt="Hi")

    assert writer.flush(timeout=5)
    run = Run.objects.get(id=result.run_id)
    assert (run.status, run.result["text"]) == ("completed", "Behind you.")
    assert Trace.objects.filter(id=result.trace_id).exists()
    assert [s.name for s in Span.objects.filter(trace_id=result.trace_id).order_by("seq")] == [
        "agent.run",
        "model.call",
    ]


def test_reading_a_run_just_finished_finds_it(
    settings: Any, make_agent: Any, user: Any, api_client: Any, openai_server: Any
) -> None:
    settings.RUN_RECORDS_WRITE_BEHIND = True
    make_agent()
    openai_server.script(ChatReply(text="Fresh."))
    body = api_client.post("/api/agents/helper/generate", {"prompt": "Hi"}, format="json").json()

    run = api_client.get(f"/api/runs/{body['runId']}")
    trace = api_client.get(f"/api/traces/{body['traceId']}")

    assert run.status_code == 200
    assert run.json()["status"] == "completed"
    assert trace.status_code == 200


def test_a_run_with_an_idempotency_key_is_written_before_it_returns(
    settings: Any, make_agent: Any, user: Any, openai_server: Any
) -> None:
    settings.RUN_RECORDS_WRITE_BEHIND = True
    make_agent()
    openai_server.script(ChatReply(text="Once."))
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)
    result = generate("helper", context=ctx, prompt="Hi", options=RunOptions(idempotency_key="k-1"))
    # No flush: the outcome must already be there for a repeated request.
    assert Run.objects.get(id=result.run_id).status == "completed"
    again = generate("helper", context=ctx, prompt="Hi", options=RunOptions(idempotency_key="k-1"))
    assert again.replayed
    assert again.text == "Once."


async def test_a_stream_is_written_before_its_finish_event(
    settings: Any, make_agent: Any, user: Any, openai_server: Any
) -> None:
    from asgiref.sync import sync_to_async

    from agents.runtime import stream
    from agents.runtime.events import Start

    settings.RUN_RECORDS_WRITE_BEHIND = True
    await sync_to_async(make_agent)()
    openai_server.script(ChatReply(text="Streamed."))
    tenant_id = await sync_to_async(lambda: user.membership.tenant_id)()
    ctx = RequestContext(tenant_id=tenant_id, user_id=user.pk)
    run_id = ""
    finished = False
    async for event in stream("helper", context=ctx, prompt="Hi"):
        if isinstance(event, Start):
            run_id = event.message_id or ""
        if event.type == "finish":  # no flush: the UI links the trace as soon as it sees this
            run = await Run.objects.aget(id=run_id)
            assert run.status == "completed"
            assert await Trace.objects.filter(id=str(run.trace_id)).aexists()
            finished = True
    assert finished
