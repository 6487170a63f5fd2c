"""What the chat socket promises below the frames: close codes with reasons, the frame
limit, the heartbeat.

Every close the server sends carries one of these codes and a reason a person can read
(at most 123 bytes, the protocol's limit). A frame over `CHAT_WS_MAX_FRAME_BYTES` is
answered with an `error` frame and a 1009 close. A `heartbeat` frame goes out every
`CHAT_WS_HEARTBEAT_S` seconds, so proxies that drop sockets idle for 60 s keep this one,
and a client can tell a silent server from a quiet one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True, kw_only=True)
class Close:
    code: int
    reason: str


CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_UNAUTHENTICATED = 4401
CLOSE_UNKNOWN_AGENT = 4404

INTERNAL_ERROR = Close(code=CLOSE_INTERNAL_ERROR, reason="The server failed; reconnect to continue.")
BUS_UNAVAILABLE = Close(
    code=CLOSE_INTERNAL_ERROR, reason="The message bus is unavailable; reconnect shortly."
)


def unauthenticated(reason: str | None = None) -> Close:
    return Close(code=CLOSE_UNAUTHENTICATED, reason=reason or "Authentication required.")


def unknown_agent(agent_id: str) -> Close:
    return Close(code=CLOSE_UNKNOWN_AGENT, reason=_fit(f"No agent '{agent_id}'."))


def max_frame_bytes() -> int:
    return int(settings.CHAT_WS_MAX_FRAME_BYTES)


def frame_too_large(size: int) -> tuple[dict[str, Any], Close]:
    """The error frame and the close for a frame of `size` bytes over the limit."""
    limit = max_frame_bytes()
    error = {
        "type": "error",
        "code": "frame_too_large",
        "message": f"A frame may be at most {limit} bytes; this one was {size}.",
        "details": {"frame": [f"Larger than {limit} bytes."]},
    }
    return error, Close(code=CLOSE_MESSAGE_TOO_BIG, reason=f"Frame larger than {limit} bytes.")


def oversize(text: str) -> int | None:
    """The frame's size in bytes (UTF-8) when it is over the limit; None when within it."""
    limit = max_frame_bytes()
    if len(text) * 4 <= limit:  # four bytes a character at most: within, without encoding
        return None
    size = len(text.encode("utf-8", "surrogatepass"))
    return size if size > limit else None


def heartbeat_interval_s() -> float:
    return float(settings.CHAT_WS_HEARTBEAT_S)


async def heartbeat(send_json: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    """Send a `heartbeat` frame every interval until cancelled (an interval of 0 sends none)."""
    interval = heartbeat_interval_s()
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        await send_json({"type": "heartbeat", "intervalS": interval})


def _fit(reason: str) -> str:
    """A close reason within the protocol's 123 bytes."""
    data = reason.encode()
    return reason if len(data) <= 123 else data[:120].decode(errors="ignore") + "…"
