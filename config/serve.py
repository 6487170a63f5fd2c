"""Serve the ASGI app with daphne, its WebSocket transport set for the chat socket.

    python -m config.serve -b 127.0.0.1 -p 8000 config.asgi:application

Daphne's own command line and server, with these changes to its WebSocket transport:
- an application's close keeps its reason (daphne 4.2 sends the code alone), and may use
  the protocol's own codes a server sends, 1009 (message too big) and 1011 (internal
  error), which autobahn's public `sendClose` refuses;
- the transport's message cap (WS_TRANSPORT_MAX_BYTES, 4 MiB unless given on the command
  line) sits above the chat's frame limit (`CHAT_WS_MAX_FRAME_BYTES`, 1 MiB), so a frame
  over the limit reaches the consumer, which answers it with an `error` frame and a 1009
  close;
- a frame over the transport's cap is refused with a close handshake (1009 and a reason)
  instead of a dropped TCP connection (autobahn's `failByDrop`, on in daphne's factory).

And a TCP listen backlog of LISTEN_BACKLOG connections instead of Twisted's 50: a burst of
more new connections than that overflowed the accept queue, and under load a client whose
handshake had been dropped there saw its connection reset.
"""

from __future__ import annotations

from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server  # installs Twisted's asyncio reactor: import it first
from daphne.ws_protocol import WebSocketProtocol

_SERVER_PROTOCOL_CODES = {1009, 1011}  # RFC 6455 codes a server may send besides 1000


class ChatWebSocketProtocol(WebSocketProtocol):
    def handle_reply(self, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.close" and self.state != self.STATE_CONNECTING:
            self._close(code=message.get("code") or 1000, reason=message.get("reason") or "")
            return
        super().handle_reply(message)

    def _close(self, *, code: int, reason: str) -> None:
        if code in _SERVER_PROTOCOL_CODES:
            from autobahn.util import encode_truncate

            # The frame-level call autobahn itself uses to fail a connection with such a code.
            self.sendCloseFrame(code=code, reasonUtf8=encode_truncate(reason, 123), isReply=False)
        else:
            self.sendClose(code=code, reason=reason or None)


WS_TRANSPORT_MAX_BYTES = 4 * 1024 * 1024
LISTEN_BACKLOG = 1024  # the kernel caps it at net.core.somaxconn


def with_backlog(endpoint: str, backlog: int = LISTEN_BACKLOG) -> str:
    """A Twisted TCP endpoint description with a listen backlog (one it names is kept)."""
    kind = endpoint.split(":", 1)[0]
    if kind not in ("tcp", "tcp6") or ":backlog=" in endpoint:
        return endpoint
    return f"{endpoint}:backlog={backlog}"


class ChatServer(Server):
    def __init__(self, *args: Any, endpoints: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, endpoints=[with_backlog(e) for e in endpoints or []], **kwargs)

    def run(self) -> None:
        from twisted.internet import reactor

        # Daphne builds its WebSocket factory in run() and starts the reactor at its end;
        # options set on the factory apply to every connection made afterwards.
        reactor.callWhenRunning(self._tune_websockets)
        super().run()

    def _tune_websockets(self) -> None:
        self.ws_factory.protocol = ChatWebSocketProtocol
        self.ws_factory.setProtocolOptions(failByDrop=False)


class ChatCommandLine(CommandLineInterface):
    server_class = ChatServer

    def __init__(self) -> None:
        super().__init__()
        self.parser.set_defaults(
            websocket_max_message_size=WS_TRANSPORT_MAX_BYTES, websocket_max_frame_size=WS_TRANSPORT_MAX_BYTES
        )


def main(argv: Any = None) -> None:
    import sys

    ChatCommandLine().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
