"""WebSocket routes. Each app that serves a socket contributes its patterns here."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
