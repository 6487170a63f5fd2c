"""The AI SDK chat route, in-process through Django's ASGI handler."""

from __future__ import annotations

import json
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import AsyncClient

from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)


def _body(text: str = "hi", chat_id: str = "chat-1") -> dict[str, Any]:
    return {
        "id": chat_id,
        "messages": [{"id": "m1", "role": "user", "parts": [{"type": "text", "text": text}]}],
        "trigger": "submit-message",
    }


class TokenClient(AsyncClient):
    token = ""


@pytest.fixture
async def client(user: Any) -> TokenClient:
    client = TokenClient()
    client.token = await sync_to_async(token_for)(user)
    return client


async def _post(client: TokenClient | AsyncClient, body: Any, agent: str = "demo") -> Any:
    headers = {"authorization": f"Token {client.token}"} if isinstance(client, TokenClient) else {}
    return await client.post(
        f"/api/agents/{agent}/chat", json.dumps(body), content_type="application/json", headers=headers
    )


async def _events(response: Any) -> list[Any]:
    raw = b"".join([part async for part in response.streaming_content]).decode()
    assert raw.endswith("data: [DONE]\n\n")
    blocks = [b.removeprefix("data: ") for b in raw.split("\n\n") if b]
    return [json.loads(b) for b in blocks[:-1]] + [blocks[-1]]


async def test_streams_the_ui_message_stream_with_the_sdk_header(scripted_chat, client):
    scripted_chat.script(
        ChatReply(tool_calls=[ToolCall(name="check_availability", arguments={"machine": "m2"}, id="c1")]),
        ChatReply(text="m2 is free."),
    )
    response = await _post(client, _body("is m2 free?"))
    assert response.status_code == 200
    assert response["content-type"].startswith("text/event-stream")
    assert response["x-vercel-ai-ui-message-stream"] == "v1"
    events = await _events(response)
    assert events[-1] == "[DONE]"
    types = [e["type"] for e in events[:-1]]
    assert types[0] == "start"
    assert types[-1] == "finish"
    assert (
        types.index("tool-input-available") < types.index("tool-output-available") < types.index("text-start")
    )
    assert "".join(e["delta"] for e in events[:-1] if e["type"] == "text-delta") == "m2 is free."
    # Only the newest user message goes to the runtime; the chat id is the thread.
    assert scripted_chat.chat_requests[0].messages[-1]["content"] == "is m2 free?"


async def test_provider_failure_ends_with_an_error_chunk_then_done(scripted_chat, client):
    scripted_chat.script(ChatReply(text="a b c d e f g", drop_after=2))
    events = await _events(await _post(client, _body(chat_id="chat-fail")))
    assert events[-2]["type"] == "error"
    assert events[-1] == "[DONE]"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "id"),
        ({"id": "c", "messages": []}, "messages"),
        ({"id": "c", "messages": [{"role": "wizard", "parts": []}]}, "messages.0.role"),
        (
            {"id": "c", "messages": [{"role": "assistant", "parts": [{"type": "text", "text": "x"}]}]},
            "messages",
        ),
        ({**_body(), "trigger": "explode"}, "trigger"),
        ({**_body(), "id": "has spaces"}, "id"),
    ],
)
async def test_malformed_body_is_a_400_with_field_errors(scripted_chat, client, body, field):
    response = await _post(client, body)
    assert response.status_code == 400
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert field in payload["details"]


def _history(turns: int) -> list[dict[str, Any]]:
    """Earlier turns as `useChat` resends them, an assistant part carrying what the route never reads."""
    messages: list[dict[str, Any]] = []
    for i in range(turns):
        messages.append({"id": f"u{i}", "role": "user", "parts": [{"type": "text", "text": f"q{i}"}]})
        messages.append(
            {
                "id": f"a{i}",
                "role": "assistant",
                "parts": [
                    {"type": "step-start"},
                    {
                        "type": "tool-clock",
                        "toolCallId": "c" * 300,
                        "state": "output-available",
                        "output": {},
                    },
                    {"type": "text", "text": f"a{i}"},
                ],
                "metadata": {"runId": "r"},
            }
        )
    return messages


async def test_earlier_messages_are_checked_for_shape_only(scripted_chat, client):
    """Memory holds the conversation: of the messages `useChat` resends, only the newest user
    message and the last one are read and validated field by field."""
    scripted_chat.script(ChatReply(text="fine"))
    body = _body("and now?", chat_id="chat-long")
    body["messages"] = [*_history(50), *body["messages"]]

    response = await _post(client, body)

    assert response.status_code == 200
    events = await _events(response)
    assert "".join(e["delta"] for e in events[:-1] if e["type"] == "text-delta") == "fine"
    assert scripted_chat.chat_requests[0].messages[-1]["content"] == "and now?"


@pytest.mark.parametrize(
    ("earlier", "field"),
    [
        ({"role": "wizard", "parts": []}, "role"),
        ({"role": "assistant", "parts": "text"}, "parts"),
        ({"role": "assistant", "parts": [{"text": "no type"}]}, "parts"),
    ],
)
async def test_an_earlier_message_of_the_wrong_shape_is_a_400_naming_it(
    scripted_chat, client, earlier, field
):
    body = _body()
    body["messages"] = [*_history(2), earlier, *body["messages"]]

    response = await _post(client, body)

    assert response.status_code == 400
    # Flat: the bad message's field by its path, nothing for the others.
    assert list(response.json()["details"]) == [f"messages.4.{field}"]


async def test_the_newest_user_message_is_validated_in_full(scripted_chat, client):
    body = _body()
    body["messages"][0]["parts"][0]["text"] = {"not": "text"}
    body["messages"].append({"role": "assistant", "parts": [{"type": "text", "text": "x"}]})

    response = await _post(client, body)

    assert response.status_code == 400
    assert "messages.0.parts.0.text" in response.json()["details"]


async def test_unknown_agent_is_a_404(scripted_chat, client):
    response = await _post(client, _body(), agent="nobody")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_unauthenticated_is_a_401(scripted_chat):
    response = await _post(AsyncClient(), _body())
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"
