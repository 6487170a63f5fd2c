"""WebSocket routes. Each app that serves a socket contributes its patterns here; the last
route takes every other path and closes it with 4404 (`core.ws_not_found`)."""

from __future__ import annotations

from typing import Any

from django.urls import re_path

from chat.routing import websocket_urlpatterns as chat_websocket_urlpatterns
from core.ws_not_found import UnknownPathConsumer

websocket_urlpatterns: list[Any] = [
    *chat_websocket_urlpatterns,
    re_path(r"", UnknownPathConsumer.as_asgi()),
]
