"""The real AI SDK client (Node) reads the chat route served by daphne."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply, ToolCall

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.node, pytest.mark.slow]


async def test_ai_sdk_assembles_text_and_tool_parts(demo_agent, openai_server, daphne_url, user):
    node = shutil.which("node")
    assert node, "Node.js is required for this test"
    assert (NODE_DIR / "node_modules" / "ai").is_dir(), "run scripts/test-setup.d/30-node-ai-sdk.sh"
    token = await sync_to_async(token_for)(user)
    openai_server.script(
        ChatReply(
            tool_calls=[ToolCall(name="chat_check_availability", arguments={"machine": "m9"}, id="call_9")]
        ),
        ChatReply(text="Machine m9 is free this afternoon."),
    )
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "read_stream.mjs"),
        f"{daphne_url}/api/agents/demo/chat",
        token,
        "Is m9 free?",
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    assert result["errors"] == []
    message = result["message"]
    assert message["role"] == "assistant"
    parts = message["parts"]
    tool = next(p for p in parts if p["type"] == "tool-chat_check_availability")
    assert tool["toolCallId"] == "call_9"
    assert tool["state"] == "output-available"
    assert tool["input"] == {"machine": "m9"}
    assert tool["output"]["available"] is True
    texts = [p["text"] for p in parts if p["type"] == "text"]
    assert texts == ["Machine m9 is free this afternoon."]
    assert message["metadata"]["agentId"] == "demo"
    assert tool["title"] == "Checking machine availability…"
