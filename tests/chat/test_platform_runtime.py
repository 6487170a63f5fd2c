"""The chat edges on the real agent runtime, against the scripted model server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from agents.models import Run
from tests.chat.helpers import chunks, connect, frames_until_end, text_of, token_for
from tests.fakes.openai_server import ChatReply, Fault, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def comm(demo_agent: Any, user: Any) -> Any:
    token = await sync_to_async(token_for)(user)
    communicator = await connect("demo", token)
    connected, _ = await communicator.connect(timeout=30)
    assert connected
    yield communicator
    await communicator.disconnect()


async def _run(run_id: str) -> Run:
    return await Run.objects.aget(id=run_id)


async def test_runtime_streams_tools_with_their_labels_and_persists_the_run(comm, openai_server):
    openai_server.script(
        ChatReply(
            tool_calls=[ToolCall(name="chat_check_availability", arguments={"machine": "m1"}, id="k1")]
        ),
        ChatReply(text="Machine m1 is free."),
    )
    await comm.send_json_to({"type": "message", "threadId": "rt-1", "text": "Is m1 free?"})
    started = await comm.receive_json_from(timeout=60)
    assert started["type"] == "run-started"
    frames = await frames_until_end(comm, wait_s=60)  # a cold process loads its embedder first
    body = chunks(frames)
    start = next(c for c in body if c["type"] == "tool-input-start")
    assert start["title"] == "Checking machine availability…"
    output = next(c for c in body if c["type"] == "tool-output-available")
    assert output["output"] == {"machine": "m1", "available": True}
    assert text_of(frames) == "Machine m1 is free."
    assert frames[-1]["status"] == "completed"
    run = await _run(body[0]["messageMetadata"]["runId"])
    assert run.status == "completed"
    # One run id everywhere: the socket's frames carry the stored run's id.
    assert {f["runId"] for f in frames} == {started["runId"]} == {str(run.id)}


async def test_runtime_abort_closes_the_provider_stream_and_keeps_the_partial_answer(comm, openai_server):
    openai_server.script(ChatReply(text=" ".join(f"w{i}" for i in range(200)), chunk_delay_s=0.02))
    await comm.send_json_to({"type": "message", "threadId": "rt-abort", "text": "long"})
    run_id = (await comm.receive_json_from(timeout=60))["runId"]
    first = None
    while first is None:
        frame = await comm.receive_json_from(timeout=60)
        if frame.get("chunk", {}).get("type") == "start":
            agent_run_id = frame["chunk"]["messageMetadata"]["runId"]
        if frame.get("chunk", {}).get("type") == "text-delta":
            first = frame
    await comm.send_json_to({"type": "abort", "threadId": "rt-abort", "runId": run_id})
    frames = await frames_until_end(comm, wait_s=10)
    assert frames[-1]["status"] == "aborted"
    for _ in range(100):
        if openai_server.disconnects:
            break
        await asyncio.sleep(0.02)
    assert openai_server.disconnects >= 1
    for _ in range(100):
        run = await _run(agent_run_id)
        if run.status != "running":
            break
        await asyncio.sleep(0.02)
    assert run.status == "aborted"


async def test_runtime_provider_failure_ends_with_an_error_chunk(comm, openai_server):
    openai_server.script(Fault(status=400, message="bad request upstream"))
    await comm.send_json_to({"type": "message", "threadId": "rt-fail", "text": "hi"})
    await comm.receive_json_from(timeout=60)
    frames = await frames_until_end(comm, wait_s=10)
    assert chunks(frames)[-1]["type"] == "error"
    assert frames[-1]["status"] == "failed"


async def test_resume_over_the_socket_checks_the_schema_then_continues(comm, openai_server):
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_pick_slot", arguments={"machine": "m2"}, id="s1")]),
        ChatReply(text="Reserved."),
    )
    await comm.send_json_to({"type": "message", "threadId": "rt-slot", "text": "Reserve m2"})
    run_id = (await comm.receive_json_from(timeout=60))["runId"]
    first = await frames_until_end(comm, wait_s=60)
    assert first[-1]["status"] == "suspended"
    asked = next(c for c in chunks(first) if c["type"] == "data-tool-suspended")["data"]
    assert asked["suspendPayload"] == {"message": "Which slot for m2?"}
    assert asked["resumeSchema"]["required"] == ["slot"]
    about = {"threadId": "rt-slot", "runId": run_id, "toolCallId": "s1"}
    await comm.send_json_to({"type": "resume", **about, "resumeData": {"when": "noon"}})
    refused = await comm.receive_json_from(timeout=30)
    assert (refused["type"], refused["code"]) == ("error", "validation_error")
    assert "resumeData.slot" in refused["details"]
    assert (await _run(run_id)).status == "suspended"  # still waiting
    await comm.send_json_to({"type": "resume", **about, "resumeData": {"slot": "14:00"}})
    assert (await comm.receive_json_from(timeout=30))["type"] == "run-resumed"
    rest = await frames_until_end(comm, wait_s=60)
    output = next(c for c in chunks(rest) if c["type"] == "tool-output-available")
    assert output["output"] == {"machine": "m2", "slot": "14:00"}
    assert text_of(rest) == "Reserved."
    assert (await _run(run_id)).status == "completed"


def _allow_model_override() -> None:
    from agents.services import agent_save

    agent_save(slug="demo", allow_model_override=True)


@pytest.mark.parametrize("model", ["nope/x", "tier:bogus"])
async def test_a_model_the_runtime_refuses_is_an_error_frame_before_any_run_started(
    comm, user, openai_server, model
):
    await sync_to_async(_allow_model_override)()
    rest = await sync_to_async(_rest_generate)(user, model)
    await comm.send_json_to({"type": "message", "threadId": "rt-model", "text": "hi", "model": model})
    error = await comm.receive_json_from(timeout=30)
    assert error["type"] == "error", error
    assert (error["code"], error["details"]) == (rest["code"], rest["details"])
    assert rest["code"] == "unknown_provider"
    await comm.send_json_to({"type": "subscribe", "threadId": "rt-model"})
    assert (await comm.receive_json_from(timeout=10))["type"] == "subscribed"  # nothing else came
    assert not await Run.objects.aexists()
    assert openai_server.chat_requests == []


def _rest_generate(user: Any, model: str) -> dict[str, Any]:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
    response = client.post("/api/agents/demo/generate", {"prompt": "hi", "model": model}, format="json")
    assert response.status_code == 400, response.content
    return response.json()


async def test_another_users_thread_is_an_error_frame_before_any_run_started(comm, tenant, openai_server):
    from memory.services import thread_create
    from tests.factories import UserFactory

    def other_users_thread() -> None:
        other: Any = UserFactory(tenant=tenant)
        thread_create(
            tenant_id=tenant.pk, resource_id=str(other.pk), thread_id="rt-theirs", owner_id=other.pk
        )

    await sync_to_async(other_users_thread)()
    await comm.send_json_to({"type": "message", "threadId": "rt-theirs", "text": "what did they say?"})
    error = await comm.receive_json_from(timeout=30)
    assert (error["type"], error["code"], error["message"]) == ("error", "not_found", "Thread not found.")
    await comm.send_json_to({"type": "subscribe", "threadId": "rt-other"})
    assert (await comm.receive_json_from(timeout=10))["type"] == "subscribed"
    assert not await Run.objects.aexists()
    assert openai_server.chat_requests == []
