"""The chat route on the real runtime with memory: what a turn leaves in the thread."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from memory.models import Message
from tests.chat.helpers import connect, frames_until_end, token_for
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


def _texts(messages: list[Message]) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in messages]


async def test_a_client_retry_of_the_same_message_id_adds_nothing(memory_agent, openai_server, token):
    openai_server.script(ChatReply(text="First answer."), ChatReply(text="Second answer."))
    body = {"id": "retry", "messages": [user_message("Hello?", "client-1")]}
    await chat(token, body)
    await chat(token, body)  # the client did not see the answer and sends the same message again

    messages = await stored("retry")
    assert _texts(messages) == [("user", "Hello?"), ("assistant", "Second answer.")]
    assert messages[0].client_id == "client-1"
    # The model saw the message once, not twice.
    assert [m["content"] for m in openai_server.chat_requests[-1].messages if m["role"] == "user"] == [
        "Hello?"
    ]


async def test_regenerate_replaces_the_last_answer(memory_agent, openai_server, token):
    openai_server.script(
        ChatReply(text="One."),
        ChatReply(text="Two."),
        ChatReply(text="Two, again."),
        ChatReply(text="Two, third."),
    )
    first = user_message("Count to one", "m1")
    second = user_message("Count to two", "m2")
    await chat(token, {"id": "regen", "messages": [first]})
    answer = {"id": "a1", "role": "assistant", "parts": [{"type": "text", "text": "One."}]}
    await chat(token, {"id": "regen", "messages": [first, answer, second]})

    # useChat's regenerate(): the messages up to the last user message, trigger regenerate-message.
    await chat(
        token,
        {
            "id": "regen",
            "messages": [first, answer, second],
            "trigger": "regenerate-message",
            "messageId": "a2",
        },
    )
    assert _texts(await stored("regen")) == [
        ("user", "Count to one"),
        ("assistant", "One."),
        ("user", "Count to two"),
        ("assistant", "Two, again."),
    ]
    sent = openai_server.chat_requests[-1].messages
    assert [m["content"] for m in sent if m["role"] != "system"] == ["Count to one", "One.", "Count to two"]

    # A client without message ids: the thread's last user message is the one regenerated.
    bare = user_message("Count to two", None)
    await chat(token, {"id": "regen", "messages": [bare], "trigger": "regenerate-message"})
    assert _texts(await stored("regen"))[2:] == [("user", "Count to two"), ("assistant", "Two, third.")]


async def test_a_socket_message_sent_again_with_its_client_id_adds_nothing(
    memory_agent, openai_server, token
):
    openai_server.script(ChatReply(text="First."), ChatReply(text="Again."))
    comm = await connect("mem", token)
    connected, _ = await comm.connect(timeout=30)
    assert connected
    try:
        for _ in range(2):
            await comm.send_json_to({"type": "message", "threadId": "sock", "text": "Hi", "clientId": "c-1"})
            frames = await frames_until_end(comm, wait_s=20)
            assert frames[-1]["status"] == "completed"
    finally:
        await comm.disconnect()

    messages = await stored("sock")
    assert _texts(messages) == [("user", "Hi"), ("assistant", "Again.")]
    assert messages[0].client_id == "c-1"


async def test_an_agent_with_memory_off_answers_in_the_chat_and_keeps_nothing(
    openai_server: Any, memory_agent: Any, token: str
) -> None:
    from agents.services import agent_save

    await sync_to_async(agent_save)(
        slug="mem",
        name="Mem",
        instructions="You route.",
        model="scripted/gpt-test",
        memory={"enabled": False},
    )
    openai_server.script(ChatReply(text="To billing."), ChatReply(text="To support."))
    first = await chat(token, {"id": "chat-stateless", "messages": [user_message("Invoice?")]})
    assert "".join(e["delta"] for e in first if e["type"] == "text-delta") == "To billing."
    await chat(token, {"id": "chat-stateless", "messages": [user_message("Crash?", "u2")]})
    # Stateless: the second turn's model call sees no history, and the thread stores nothing.
    sent = openai_server.chat_requests[-1].messages
    assert [m["content"] for m in sent if m["role"] == "user"] == ["Crash?"]
    assert not await Message.objects.filter(thread__id="chat-stateless").aexists()
