"""WebSocket authentication: the session cookie, or an API token.

A token is accepted as `?token=...` in the query string or as the
`Sec-WebSocket-Protocol` value `token.<key>` (browsers cannot set headers on a
WebSocket). The consumer decides what an anonymous connection gets.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def _token_from_scope(scope: dict[str, Any]) -> str | None:
    query = parse_qs(scope.get("query_string", b"").decode())
    if query.get("token"):
        return query["token"][0]
    for proto in scope.get("subprotocols", []):
        if proto.startswith("token."):
            return str(proto.removeprefix("token."))
    return None


class TokenAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        key = _token_from_scope(scope)
        if key and not getattr(scope.get("user"), "is_authenticated", False):
            scope = dict(scope, user=await _user_for_token(key))
        return await super().__call__(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner: Any) -> Any:
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
