"""The answer to a WebSocket handshake on a path no route serves.

Channels' URLRouter raises for such a path, which the server answers as an HTTP 500 and logs
as an error. The catch-all route at the end of `config.routing` sends it here instead: the
socket is accepted and closed at once with 4404 and a reason, as the chat socket closes for an
unknown agent (a close before the handshake reaches a browser as a bare 403).
"""

from __future__ import annotations

from channels.generic.websocket import AsyncWebsocketConsumer

CLOSE_NOT_FOUND = 4404
REASON = "No WebSocket route for this path."


class UnknownPathConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND, reason=REASON)
