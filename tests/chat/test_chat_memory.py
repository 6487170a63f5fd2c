"""The chat route on the real runtime with memory: what a turn leaves in the thread."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from memory.models import Message
from tests.chat.helpers import token_for
from tests.conftest import SCRIPTED_KEY
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def memory_agent(openai_server: Any, settings: Any, transactional_db: None) -> Any:
    from agents.services import agent_save, tools_sync

    settings.EMBEDDER = "scripted/embed-test"
    tools_sync()
    return agent_save(
        slug="mem",
        name="Mem",
        instructions="You remember.",
        model="scripted/gpt-test",
        memory={"last_messages": 10},
    )


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


def user_message(text: str, message_id: str | None = "u1") -> dict[str, Any]:
    message: dict[str, Any] = {"role": "user", "parts": [{"type": "text", "text": text}]}
    if message_id is not None:
        message["id"] = message_id
    return message


async def chat(token: str, body: dict[str, Any]) -> list[Any]:
    response: Any = await AsyncClient().post(
        "/api/agents/mem/chat",
        json.dumps({"trigger": "submit-message", **body}),
        content_type="application/json",
        headers={"authorization": f"Token {token}"},
    )
    assert response.status_code == 200, response.content
    raw = b"".join([part async for part in response.streaming_content]).decode()
    assert raw.endswith("data: [DONE]\n\n")
    return [json.loads(b.removeprefix("data: ")) for b in raw.split("\n\n") if b and b != "data: [DONE]"]


async def stored(thread_id: str) -> list[Message]:
    return [m async for m in Message.objects.filter(thread_id=thread_id).order_by("created_at", "id")]


async def test_a_configured_key_pasted_into_a_chat_is_not_stored(memory_agent, openai_server, token):
    planted = os.environ["OPENAI_API_KEY"]
    openai_server.script(ChatReply(text=f"You sent {SCRIPTED_KEY}, keep it safe."))
    await chat(
        token,
        {"id": "leak", "messages": [user_message(f"my keys: {planted} and {SCRIPTED_KEY}")]},
    )

    messages = await stored("leak")
    assert [m.role for m in messages] == ["user", "assistant"]
    for message in messages:
        for secret in (planted, SCRIPTED_KEY):
            assert secret not in message.text
            assert secret not in json.dumps(message.parts)
    assert "[REDACTED]" in messages[0].text
    # Nor does the model see it.
    assert planted not in json.dumps(openai_server.chat_requests[0].messages)
