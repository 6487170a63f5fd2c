"""The AI SDK's resumable-stream route (`GET <chat route>/<chatId>/stream`) and the SSE heartbeat."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from tests.chat.helpers import token_for
from tests.factories import UserFactory
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db(transaction=True)

WORDS = " ".join(f"w{i}" for i in range(12))


def _headers(token: str) -> dict[str, str]:
    return {"authorization": f"Token {token}"}


async def _post(client: AsyncClient, token: str, chat_id: str, text: str = "go") -> Any:
    body = {
        "id": chat_id,
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": text}]}],
    }
    return await client.post(
        "/api/agents/demo/chat", json.dumps(body), content_type="application/json", headers=_headers(token)
    )


async def _resume(client: AsyncClient, token: str, chat_id: str, agent: str = "demo") -> Any:
    return await client.get(f"/api/agents/{agent}/chat/{chat_id}/stream", headers=_headers(token))


def _chunks(raw: str) -> list[dict[str, Any]]:
    return [json.loads(b.removeprefix("data: ")) for b in raw.split("\n\n") if b.startswith("data: {")]


async def _read_all(response: Any) -> str:
    return b"".join([part async for part in response.streaming_content]).decode()


def _text(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["delta"] for c in chunks if c["type"] == "text-delta")


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


async def test_a_dropped_stream_is_resumed_from_its_first_chunk_then_live(scripted_chat, token):
    scripted_chat.script(ChatReply(text=WORDS, chunk_delay_s=0.05))
    client = AsyncClient()
    first = await _post(client, token, "resume-1")
    parts = aiter(first.streaming_content)
    seen = b""
    while b'"text-delta"' not in seen:
        seen += await anext(parts)
    await parts.aclose()  # the client goes away mid-answer; the run goes on

    resumed = await _resume(client, token, "resume-1")
    assert resumed.status_code == 200
    assert resumed["content-type"].startswith("text/event-stream")
    assert resumed["x-vercel-ai-ui-message-stream"] == "v1"
    raw = await _read_all(resumed)
    chunks = _chunks(raw)
    assert chunks[0]["type"] == "start"  # a replay from the start, as the SDK expects
    assert chunks[-1]["type"] == "finish"
    assert _text(chunks) == WORDS  # nothing lost, nothing twice
    assert raw.endswith("data: [DONE]\n\n")

    # The run has ended: nothing to resume, and the SDK leaves its messages as they are.
    after = await _resume(client, token, "resume-1")
    assert after.status_code == 204


async def test_two_clients_resume_the_same_run(scripted_chat, token):
    scripted_chat.script(ChatReply(text=WORDS, chunk_delay_s=0.03))
    client = AsyncClient()
    started = await _post(client, token, "resume-2")
    parts = aiter(started.streaming_content)
    await anext(parts)
    tab_a, tab_b = await _resume(client, token, "resume-2"), await _resume(client, token, "resume-2")
    live = _text(_chunks((b"".join([p async for p in parts])).decode()))
    assert _text(_chunks(await _read_all(tab_a))) == WORDS
    assert _text(_chunks(await _read_all(tab_b))) == WORDS
    assert live == WORDS


async def test_a_resume_right_after_the_first_frame_finds_the_run(scripted_chat, token, monkeypatch):
    """No frame reaches a client before the replay buffer names the run as the thread's
    newest: however slow that first append, a resume at once by chat id finds the run."""
    from chat.runs import hub

    append = hub.replay_append

    async def slow_append(**kwargs: Any) -> None:
        await asyncio.sleep(0.2)  # a busy Redis
        await append(**kwargs)

    monkeypatch.setattr(hub, "replay_append", slow_append)
    scripted_chat.script(ChatReply(text=WORDS, chunk_delay_s=0.01))
    client = AsyncClient()
    started = await _post(client, token, "resume-at-once")
    parts = aiter(started.streaming_content)
    head = await anext(parts)
    resumed = await _resume(client, token, "resume-at-once")
    assert resumed.status_code == 200
    live = _text(_chunks((head + b"".join([p async for p in parts])).decode()))
    assert live == WORDS
    assert _text(_chunks(await _read_all(resumed))) == WORDS


async def test_a_replay_buffer_that_hangs_holds_the_first_frames_back_only_briefly(
    scripted_chat, token, monkeypatch
):
    from chat.runs import hub

    append = hub.replay_append
    appended = asyncio.Event()

    async def hanging_append(**kwargs: Any) -> None:
        await asyncio.sleep(3)  # a Redis that hangs rather than refuses
        await append(**kwargs)
        appended.set()

    monkeypatch.setattr(hub, "replay_append", hanging_append)
    scripted_chat.script(ChatReply(text=WORDS))
    client = AsyncClient()
    response = await _post(client, token, "resume-hang")
    parts = aiter(response.streaming_content)
    head = await anext(parts)
    assert not appended.is_set()  # the first frame came while the replay buffer still hung
    raw = (head + b"".join([p async for p in parts])).decode()
    assert _text(_chunks(raw)) == WORDS


async def test_nothing_to_resume_is_a_204(scripted_chat, token):
    response = await _resume(AsyncClient(), token, "never-started")
    assert response.status_code == 204
    assert response.content == b""


async def test_another_users_run_is_not_resumed(scripted_chat, token, user):
    scripted_chat.script(ChatReply(text=WORDS, chunk_delay_s=0.03))
    client = AsyncClient()
    started = await _post(client, token, "resume-mine")
    parts = aiter(started.streaming_content)
    await anext(parts)
    other = await sync_to_async(UserFactory)(tenant=await sync_to_async(lambda: user.membership.tenant)())
    other_token = await sync_to_async(token_for)(other)
    response = await _resume(client, other_token, "resume-mine")
    assert response.status_code == 204
    async for _ in parts:
        pass


async def test_unknown_agent_and_bad_chat_id(scripted_chat, token):
    client = AsyncClient()
    missing = await _resume(client, token, "c1", agent="nobody")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    bad = await _resume(client, token, "has%20space")
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"
    assert "id" in bad.json()["details"]
    anonymous = await client.get("/api/agents/demo/chat/c1/stream")
    assert anonymous.status_code in (401, 403)


async def test_an_idle_stream_gets_heartbeat_comments(scripted_chat, token, settings):
    settings.CHAT_SSE_HEARTBEAT_S = 0.05
    scripted_chat.script(ChatReply(text="slow answer", delay_s=0.4))
    client = AsyncClient()
    response = await _post(client, token, "beat-1")
    parts = aiter(response.streaming_content)
    head = await anext(parts)
    resumed = await _resume(client, token, "beat-1")

    async def rest() -> str:
        return (head + b"".join([p async for p in parts])).decode()

    raw, resumed_raw = await asyncio.gather(rest(), _read_all(resumed))  # both while the model waits
    assert ": heartbeat\n\n" in raw
    assert _text(_chunks(raw)) == "slow answer"
    assert ": heartbeat\n\n" in resumed_raw
    assert _text(_chunks(resumed_raw)) == "slow answer"
