from __future__ import annotations

from typing import Any

from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token

from config.asgi import application

ORIGIN = [(b"origin", b"http://localhost")]


def token_for(user: Any) -> str:
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


async def connect(agent: str = "demo", token: str | None = None) -> WebsocketCommunicator:
    """A program client: the API token in the Authorization header, and no Origin."""
    headers = [(b"authorization", f"Token {token}".encode())] if token else []
    return WebsocketCommunicator(application, f"/ws/agents/{agent}/", headers=headers)


async def frames_until_end(comm: WebsocketCommunicator, wait_s: float = 30) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    while True:
        frame = await comm.receive_json_from(timeout=wait_s)
        if frame.get("type") == "heartbeat":
            continue
        frames.append(frame)
        if frame.get("type") == "run-end":
            return frames


def chunks(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f["chunk"] for f in frames if f.get("type") == "chunk"]


def text_of(frames: list[dict[str, Any]]) -> str:
    return "".join(c["delta"] for c in chunks(frames) if c["type"] == "text-delta")
