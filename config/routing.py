"""WebSocket routes. Each app that serves a socket contributes its patterns here."""

from __future__ import annotations

from typing import Any

from chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns

websocket_urlpatterns: list[Any] = [*chat_websocket_urlpatterns]
