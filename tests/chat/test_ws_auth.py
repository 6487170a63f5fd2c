"""Who may open the chat socket: tickets, API tokens in a header, the session cookie from this site."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from config.asgi import application
from core.ws_auth import BAD_TICKET, FOREIGN_ORIGIN, REFUSED_IN_URL
from tests.chat.helpers import ORIGIN, connect, token_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def token(user: Any) -> str:
    return await sync_to_async(token_for)(user)


def _ticket(*, token: str | None = None, user: Any = None) -> Any:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    if user is not None:
        client.force_login(user)
    return client.post("/api/ws-tickets")


async def _subscribed(comm: WebsocketCommunicator) -> None:
    connected, _ = await comm.connect(timeout=30)
    assert connected
    await comm.send_json_to({"type": "subscribe", "threadId": "t-auth"})
    assert (await comm.receive_json_from(timeout=5))["type"] == "subscribed"
    await comm.disconnect()


async def _closed(comm: WebsocketCommunicator) -> tuple[int, str]:
    connected, _ = await comm.connect(timeout=30)
    assert connected  # accepted first, so that the client reads the code and the reason
    message = await comm.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"], message.get("reason", "")


async def test_a_token_client_without_an_origin_header_connects(scripted_chat, token):
    await _subscribed(await connect("demo", token))  # Authorization: Token <key>, no Origin


async def test_an_api_token_in_the_url_is_refused_with_a_reason(scripted_chat, token):
    comm = WebsocketCommunicator(application, f"/ws/agents/demo/?token={token}")
    assert await _closed(comm) == (4401, REFUSED_IN_URL)


async def test_a_ticket_opens_one_socket_once(scripted_chat, token):
    response = await sync_to_async(_ticket)(token=token)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"ticket", "expiresAt", "expiresInS"}
    assert body["expiresInS"] == 60
    assert token not in body["ticket"]
    path = f"/ws/agents/demo/?ticket={body['ticket']}"
    await _subscribed(WebsocketCommunicator(application, path))  # no Origin, no other credentials
    assert await _closed(WebsocketCommunicator(application, path)) == (4401, BAD_TICKET)


async def test_a_session_may_ask_for_a_ticket(scripted_chat, user):
    response = await sync_to_async(_ticket)(user=user)
    assert response.status_code == 201
    await _subscribed(
        WebsocketCommunicator(application, f"/ws/agents/demo/?ticket={response.json()['ticket']}")
    )


async def test_an_expired_or_unknown_ticket_is_refused(scripted_chat, token, settings):
    settings.WS_TICKET_TTL_S = 1
    ticket = (await sync_to_async(_ticket)(token=token)).json()["ticket"]
    await asyncio.sleep(2.2)
    for value in (ticket, "made-up"):
        comm = WebsocketCommunicator(application, f"/ws/agents/demo/?ticket={value}")
        assert await _closed(comm) == (4401, BAD_TICKET)


def test_a_ticket_needs_credentials(db):
    response = APIClient().post("/api/ws-tickets")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def _session_cookie(user: Any) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


@pytest.mark.parametrize(
    ("origin", "reason"),
    [
        (ORIGIN, None),
        ([(b"origin", b"https://evil.example")], FOREIGN_ORIGIN),
        ([], "Authentication required."),
    ],
)
async def test_the_session_cookie_counts_only_from_this_sites_pages(scripted_chat, user, origin, reason):
    cookie = await sync_to_async(_session_cookie)(user)
    comm = WebsocketCommunicator(application, "/ws/agents/demo/", headers=[(b"cookie", cookie), *origin])
    if reason is None:
        await _subscribed(comm)
    else:
        assert await _closed(comm) == (4401, reason)
