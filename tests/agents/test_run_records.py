"""A run id a client received always resolves: the run is on disk before its id leaves."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from django.db import connection

from agents.models import Run
from agents.services import agent_save
from core.context import RequestContext
from core.db import connect
from observability.models import Trace
from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply
from tests.servers import DaphneServer

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


def test_a_generate_writes_its_run_once_before_answering(openai_server: Any, user: Any) -> None:
    """Its id leaves only with the answer, so one insert (no running row, then an update) holds it."""
    from django.db import connection as default
    from django.test.utils import CaptureQueriesContext

    from agents.runtime import generate

    agent_save(slug="once", name="Once", instructions="Answer.", model="scripted/gpt-test")
    openai_server.always(ChatReply(text="Done."))
    context = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)
    table = Run._meta.db_table

    with CaptureQueriesContext(default) as queries:
        result = generate("once", context=context, prompt="hi")

    writes = re.findall(rf'\b(INSERT INTO|UPDATE)\s+"?{table}"?\s', ";".join(q["sql"] for q in queries))
    assert writes == ["INSERT INTO"]
    assert Run.objects.get(id=result.run_id).status == "completed"


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
