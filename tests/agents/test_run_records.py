"""A run id a client received always resolves: the run is on disk before its id leaves."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest
from django.db import connection

from agents.models import Run
from agents.services import agent_save
from core.context import RequestContext
from core.db import connect, db_to_async
from observability.models import Trace
from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply
from tests.servers import ROOT, DaphneServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.slow
def test_a_generate_answer_survives_kill_9_right_after_the_response(openai_server: Any, user: Any) -> None:
    agent_save(slug="durable", name="Durable", instructions="Answer.", model="scripted/gpt-test")
    openai_server.always(ChatReply(text="Kept."))
    headers = {"authorization": f"Token {token_for(user)}"}
    db_name = connection.settings_dict["NAME"]
    first = DaphneServer(db_name=db_name, scripted_base_url=openai_server.base_url).start()
    try:
        # Whatever the server queues behind its answer waits on this lock, so the kill
        # lands inside that window every time, not only when the timing happens to.
        with connect() as blocker:
            blocker.execute(f"LOCK TABLE {Trace._meta.db_table} IN SHARE ROW EXCLUSIVE MODE")
            response = httpx.post(
                f"{first.url}/api/agents/durable/generate", json={"prompt": "hi"}, headers=headers, timeout=30
            )
            first.kill()
            # A backend waiting on a lock notices its client is gone only once it gets the
            # lock, and would then run the rest of what it was sent: end the dead process's
            # sessions first, as PostgreSQL does when it sees the socket closed.
            with connect(autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                    [first.app_name],
                )
            blocker.rollback()
    finally:
        first.stop()
    assert response.status_code == 200, response.text
    run_id = response.json()["runId"]

    fresh = DaphneServer(db_name=db_name, scripted_base_url=openai_server.base_url).start()
    try:
        found = httpx.get(f"{fresh.url}/api/runs/{run_id}", headers=headers, timeout=30)
    finally:
        fresh.stop()
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["status"] == "completed"
    assert body["result"]["text"] == "Kept."


async def test_a_stream_run_exists_as_running_when_its_id_is_sent(
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
    seen_running = False
    async for event in stream("helper", context=ctx, prompt="Hi"):
        if isinstance(event, Start):  # the first event carries the run id to the client
            run = await Run.objects.filter(id=str(event.message_id)).afirst()
            seen_running = run is not None and run.status == Run.Status.RUNNING
    assert seen_running


def _run_seen_by_the_model(slug: str, seen: list[str | None]) -> Any:
    """A responder that, while it answers (the request is in, the answer not yet sent), reads
    the agent's run from a connection of its own, waiting up to 5 s for it to appear."""

    def respond(body: dict[str, Any]) -> ChatReply:
        status = None
        with connect(autocommit=True) as other:
            deadline = time.monotonic() + 5
            while status is None and time.monotonic() < deadline:
                row = other.execute(
                    "SELECT r.status FROM agents_run r JOIN agents_agent a ON a.id = r.agent_id "
                    "WHERE a.slug = %s",
                    [slug],
                ).fetchone()
                status = row[0] if row else None
                if status is None:
                    time.sleep(0.01)
        seen.append(status)
        return ChatReply(text="Answered.")

    return respond


@pytest.mark.parametrize("entry", ["generate", "agenerate", "stream"])
async def test_a_run_reads_running_from_another_connection_while_the_model_answers(
    settings: Any, user: Any, openai_server: Any, entry: str
) -> None:
    """The row is written when the run starts, not when it ends: committed while the model works."""
    from asgiref.sync import sync_to_async

    from agents.runtime import agenerate, generate, stream

    settings.RUN_RECORDS_WRITE_BEHIND = True  # as in production
    slug = f"early-{entry}"
    await sync_to_async(agent_save)(
        slug=slug, name="Early", instructions="Answer.", model="scripted/gpt-test"
    )
    seen: list[str | None] = []
    openai_server.respond_with(_run_seen_by_the_model(slug, seen))
    tenant_id = await sync_to_async(lambda: user.membership.tenant_id)()
    ctx = RequestContext(tenant_id=tenant_id, user_id=user.pk)
    if entry == "generate":
        result = await db_to_async(generate)(slug, context=ctx, prompt="hi")
        text, run_id = result.text, result.run_id
    elif entry == "agenerate":
        result = await agenerate(slug, context=ctx, prompt="hi")
        text, run_id = result.text, result.run_id
    else:
        parts, run_id = [], ""
        async for event in stream(slug, context=ctx, prompt="hi"):
            if event.type == "start":
                run_id = str(event.message_id)  # type: ignore[attr-defined]
            if event.type == "text-delta":
                parts.append(event.delta)  # type: ignore[attr-defined]
        text = "".join(parts)
    assert text == "Answered."
    assert seen == ["running"]
    run = await Run.objects.aget(id=run_id)
    assert run.status == "completed"
    await sync_to_async(_written_behind)()


@pytest.mark.parametrize("entry", ["generate", "agenerate", "stream"])
async def test_a_step_s_tool_outcomes_are_on_disk_before_the_next_answer_is_used(
    settings: Any, make_agent: Any, user: Any, openai_server: Any, entry: str
) -> None:
    """A tool of step 2 reads its run's stored state from another connection: step 1's outcome
    is there, committed before step 2's answer was acted on."""
    from asgiref.sync import sync_to_async

    from agents.runtime import agenerate, generate, stream
    from tests.agents.conftest import CALLS
    from tests.fakes.openai_server import ToolCall

    settings.RUN_RECORDS_WRITE_BEHIND = True
    await sync_to_async(make_agent)(tools=["test_add", "test_run_probe"])
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="t1", name="test_add", arguments={"a": 1, "b": 2})]),
        ChatReply(tool_calls=[ToolCall(id="t2", name="test_run_probe", arguments={})]),
        ChatReply(text="Done."),
    )
    tenant_id = await sync_to_async(lambda: user.membership.tenant_id)()
    ctx = RequestContext(tenant_id=tenant_id, user_id=user.pk)
    if entry == "generate":
        await db_to_async(generate)("helper", context=ctx, prompt="Add")
    elif entry == "agenerate":
        await agenerate("helper", context=ctx, prompt="Add")
    else:
        async for _event in stream("helper", context=ctx, prompt="Add"):
            pass
    await sync_to_async(_written_behind)()
    [probed] = CALLS["probe"]
    assert (probed.status, probed.step, probed.tool_messages) == ("running", 1, 1)


def _written_behind() -> None:
    """The traces queued behind these runs written before the test's tables are emptied."""
    from core.writebehind import records, writer

    assert records.flush(timeout=10)
    assert writer.flush(timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["daphne", "generate"])
def test_a_process_killed_mid_run_leaves_a_row_the_sweeper_marks_interrupted(
    openai_server: Any, user: Any, entry: str
) -> None:
    """SIGKILL while the model is still answering: the run is on disk as running, and the
    sweeper marks it interrupted (never `running` for ever)."""
    from datetime import UTC, datetime, timedelta

    from django.conf import settings

    from agents.runs.services import runs_sweep_interrupted

    agent = agent_save(slug="killed", name="Killed", instructions="Answer.", model="scripted/gpt-test")
    asked = threading.Event()

    def stall(body: dict[str, Any]) -> ChatReply:
        asked.set()
        return ChatReply(text="Too late.", delay_s=60)

    openai_server.respond_with(stall)
    db_name = connection.settings_dict["NAME"]
    server = DaphneServer(db_name=db_name, scripted_base_url=openai_server.base_url)
    try:
        if entry == "daphne":
            server.start()
            headers = {"authorization": f"Token {token_for(user)}"}
            caller = threading.Thread(
                target=lambda: _post_quietly(f"{server.url}/api/agents/killed/generate", headers),
                daemon=True,
            )
            caller.start()
        else:  # a plain process calling the blocking `generate`
            code = (
                "import django; django.setup(); from agents.runtime import generate; "
                "from core.context import RequestContext; "
                f"generate('killed', context=RequestContext(tenant_id={user.membership.tenant_id}, "
                f"user_id={user.pk}), prompt='hi')"
            )
            server.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and code
                [sys.executable, "-c", code], env=server.env, cwd=ROOT
            )
        assert asked.wait(60), "the model was never called"
        deadline = time.monotonic() + 10
        while not Run.objects.filter(agent=agent).exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        server.kill()
    finally:
        server.stop()
    run = Run.objects.get(agent=agent)
    assert run.status == "running"
    later = datetime.now(UTC) + timedelta(seconds=float(settings.RUN_INTERRUPTED_AFTER_S) + 1)
    assert runs_sweep_interrupted(now=later) == 1
    run.refresh_from_db()
    assert run.status == "interrupted"
    assert run.error["code"] == "run_interrupted"


def _post_quietly(url: str, headers: dict[str, str]) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.post(url, json={"prompt": "hi"}, headers=headers, timeout=90)


async def test_a_stream_checkpoints_its_state_at_each_step_boundary(
    make_agent: Any, user: Any, openai_server: Any
) -> None:
    from asgiref.sync import sync_to_async

    from agents.runtime import stream
    from core.writebehind import records
    from tests.fakes.openai_server import ToolCall

    await sync_to_async(make_agent)()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="t1", name="test_add", arguments={"a": 1, "b": 2})]),
        ChatReply(text="3"),
    )
    tenant_id = await sync_to_async(lambda: user.membership.tenant_id)()
    ctx = RequestContext(tenant_id=tenant_id, user_id=user.pk)
    steps, run_id, between = 0, "", None
    async for event in stream("helper", context=ctx, prompt="Add 1 and 2"):
        if event.type == "start":
            run_id = str(event.message_id)  # type: ignore[attr-defined]
        if event.type == "start-step":
            steps += 1
            if steps == 2:  # the boundary after the tool step, before the second model call
                await sync_to_async(records.flush)()
                between = await Run.objects.aget(id=run_id)
    assert between is not None
    assert (between.status, between.state["step"]) == ("running", 1)
    assert between.checkpoint_at is not None
    assert between.state["messages"][-1] == {"role": "tool", "tool_call_id": "t1", "content": '{"sum": 3}'}
    assert between.state["chain"] == ["scripted/gpt-test"]


def _cancelled_while_the_model_answers(slug: str, actor: Any) -> Any:
    """A responder that, during the first model call, cancels the run from another thread (as
    `POST /api/runs/{id}/cancel` does), then answers with a tool call the run must not make."""
    from concurrent.futures import ThreadPoolExecutor

    from agents.runs.services import run_cancel
    from core.db import releasing
    from tests.fakes.openai_server import ToolCall

    def cancel() -> None:
        deadline = time.monotonic() + 5
        while (run := Run.objects.filter(agent__slug=slug, status="running").first()) is None:
            assert time.monotonic() < deadline, "the run's row was never committed"
            time.sleep(0.01)
        run_cancel(actor=actor, run_id=run.id)

    def respond(_body: dict[str, Any]) -> ChatReply:
        with ThreadPoolExecutor(1) as pool:  # the scripted server answers on an event loop
            pool.submit(releasing(cancel)).result()
        time.sleep(0.3)  # the signal reaches the run's process
        return ChatReply(tool_calls=[ToolCall(id="t1", name="test_add", arguments={"a": 1, "b": 2})])

    return respond


@pytest.mark.parametrize("entry", ["generate", "agenerate", "stream"])
async def test_a_run_cancelled_while_the_model_answers_stops_before_its_tools(
    settings: Any, make_agent: Any, user: Any, openai_server: Any, entry: str
) -> None:
    """A cancel from elsewhere reaches a run whose row was queued at its start (no key, no
    caller's transaction): it stops at the next step boundary, and its tool never runs."""
    from asgiref.sync import sync_to_async

    from agents.runtime import agenerate, generate, stream
    from agents.runtime.drivers import RunCancelled
    from core.access import actor_for_user
    from tests.agents.conftest import CALLS

    settings.RUN_RECORDS_WRITE_BEHIND = True
    await sync_to_async(make_agent)(tools=["test_add"])
    actor = await sync_to_async(actor_for_user)(user)
    openai_server.respond_with(_cancelled_while_the_model_answers("helper", actor))
    tenant_id = await sync_to_async(lambda: user.membership.tenant_id)()
    ctx = RequestContext(tenant_id=tenant_id, user_id=user.pk)
    if entry == "stream":
        events = [event.type async for event in stream("helper", context=ctx, prompt="Add")]
        assert events[-1] == "abort"
    elif entry == "generate":
        with pytest.raises(RunCancelled):
            await db_to_async(generate)("helper", context=ctx, prompt="Add")
    else:
        with pytest.raises(RunCancelled):
            await agenerate("helper", context=ctx, prompt="Add")
    assert CALLS["add"] == []
    run = await Run.objects.aget(agent__slug="helper")
    assert (run.status, run.error["code"]) == ("cancelled", "run_cancelled")
    await sync_to_async(_written_behind)()


def test_a_blocking_run_whose_model_fails_after_its_row_was_sent_is_recorded_failed(
    settings: Any, make_agent: Any, user: Any, openai_server: Any
) -> None:
    """`generate` sends its row on its own connection and calls the model at once; when the
    model fails, what it sent is read first and the run's outcome written on that connection."""
    from agents.providers.calls import ProviderUnavailable
    from agents.runtime import generate
    from tests.fakes.openai_server import Fault

    settings.RUN_RECORDS_WRITE_BEHIND = True
    settings.MODEL_MAX_RETRIES = 0
    make_agent()
    openai_server.script(*[Fault(status=500)] * 3)
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)
    with pytest.raises(ProviderUnavailable):
        generate("helper", context=ctx, prompt="hi")
    run = Run.objects.get()  # the same thread's connection, free again
    assert run.status == "failed"
    assert run.error["code"] == "provider_unavailable"
    _written_behind()


def test_a_blocking_run_s_outcome_is_committed_when_generate_returns(
    settings: Any, make_agent: Any, user: Any, openai_server: Any
) -> None:
    """The outcome is sent before the trace is handed behind and read back before `generate`
    returns: another connection finds the run finished at once."""
    from agents.runtime import generate

    settings.RUN_RECORDS_WRITE_BEHIND = True
    make_agent()
    openai_server.script(ChatReply(text="Done."))
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)
    result = generate("helper", context=ctx, prompt="hi")
    with connect() as other:
        [(status, text)] = other.execute(
            f"SELECT status, result->>'text' FROM {Run._meta.db_table} WHERE id = %s",  # noqa: S608
            [result.run_id],
        ).fetchall()
    assert (status, text) == ("completed", "Done.")
    _written_behind()
    assert Trace.objects.filter(id=result.trace_id).exists()
