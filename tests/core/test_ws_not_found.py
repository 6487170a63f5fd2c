"""A WebSocket handshake on a path no route serves is closed with 4404, never a server error."""

from __future__ import annotations

import logging

import pytest
from channels.testing import WebsocketCommunicator

from config.asgi import application


@pytest.mark.parametrize("path", ["/ws/nothing/", "/", "/ws/agents/", "/ws/agents/demo/extra/"])
async def test_an_unknown_socket_path_is_closed_with_4404_and_a_reason(caplog, path):
    comm = WebsocketCommunicator(application, path)
    with caplog.at_level(logging.WARNING):
        connected, _ = await comm.connect(timeout=10)
        assert connected
        message = await comm.receive_output(timeout=5)
    assert (message["type"], message["code"]) == ("websocket.close", 4404)
    assert message["reason"] == "No WebSocket route for this path."
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    await comm.wait()
