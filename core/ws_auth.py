"""WebSocket authentication: a ticket, an API token in a header, or the session cookie.

In order of precedence:
- `?ticket=<ticket>`: a single-use ticket from `POST /api/ws-tickets` (core.ws_tickets);
- `Authorization: Token <key>` (program clients), or the subprotocol `token.<key>` (clients
  that cannot set headers);
- the session cookie, only when the `Origin` header names one of this site's hosts
  (`ALLOWED_HOSTS`): a browser sends the cookie with every page's sockets, so this is what
  keeps another site's page from using a signed-in person's session. Token and ticket
  clients need no `Origin` (a program sends none).
An API token in the URL (`?token=`) is refused: URLs end up in logs and histories.

The consumer decides what an anonymous connection gets; `scope["auth_error"]` says why
credentials that were sent did not count (it becomes the close reason).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from core.ws_tickets import ws_ticket_redeem

REFUSED_IN_URL = "API tokens are not accepted in the URL: use a ticket (POST /api/ws-tickets) or a header."
BAD_TICKET = "The ticket is unknown, expired or already used."
UNKNOWN_KEY = "The API token is not valid."
FOREIGN_ORIGIN = "A sign-in cookie counts only on this site's own pages."


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return None
    return token.user


@database_sync_to_async
def _active_user(user_id: int) -> Any:
    return get_user_model().objects.filter(pk=user_id, is_active=True).first()


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin1")
    return None


def _token_from_scope(scope: dict[str, Any]) -> str | None:
    authorization = _header(scope, b"authorization")
    if authorization:
        keyword, _, key = authorization.partition(" ")
        if keyword.lower() == "token" and key.strip():
            return key.strip()
    for proto in scope.get("subprotocols", []):
        if proto.startswith("token."):
            return str(proto.removeprefix("token."))
    return None


def _origin_allowed(scope: dict[str, Any]) -> bool:
    origin = _header(scope, b"origin")
    if not origin:
        return False
    checker = AllowedHostsOriginValidator(None)  # ALLOWED_HOSTS as Channels reads it
    return bool(checker.valid_origin(urlparse(origin)))


class WebSocketAuthMiddleware:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.with_session = AuthMiddlewareStack(inner)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        query = parse_qs(scope.get("query_string", b"").decode("latin1"))
        user: Any = None
        error: str | None = None
        if "token" in query:
            error = REFUSED_IN_URL
        elif "ticket" in query:
            user_id = await ws_ticket_redeem(ticket=query["ticket"][0])
            user = await _active_user(user_id) if user_id is not None else None
            error = None if user else BAD_TICKET
        elif (key := _token_from_scope(scope)) is not None:
            user = await _user_for_token(key)
            error = None if user else UNKNOWN_KEY
        elif _origin_allowed(scope):
            return await self.with_session(scope, receive, send)
        elif _header(scope, b"origin"):
            error = FOREIGN_ORIGIN
        scope = dict(scope, user=user or AnonymousUser())
        if error:
            scope["auth_error"] = error
        return await self.inner(scope, receive, send)
