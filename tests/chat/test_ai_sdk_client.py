"""The real AI SDK client (Node) reads the chat route served by daphne."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from agents.models import Run
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


async def _chat_approval(config: dict[str, Any]) -> dict[str, Any]:
    """Run tests/node/chat_approval.mjs: the SDK's Chat, unchanged, deciding each approval request."""
    node = shutil.which("node")
    assert node, "Node.js is required for this test"
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "chat_approval.mjs"),
        json.dumps(config),
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 90)
    assert proc.returncode == 0, err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize("sdk", ["ai", "ai6"])
@pytest.mark.parametrize("approved", [True, False])
async def test_the_sdk_approval_flow_through_the_chat_route(
    demo_agent, openai_server, daphne_url, user, sdk, approved
):
    # useChat's own flow: the stream's `tool-approval-request` becomes an `approval-requested`
    # part, `addToolApprovalResponse` answers it, and `lastAssistantMessageIsCompleteWithApprovalResponses`
    # sends the chat again with the part `approval-responded`; the route continues the run.
    assert (NODE_DIR / "node_modules" / sdk).is_dir(), "run scripts/test-setup.d/30-node-ai-sdk.sh"
    token = await sync_to_async(token_for)(user)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m7"}, id="call_b")]),
        ChatReply(text="Booked m7." if approved else "I did not book m7."),
    )
    result = await _chat_approval(
        {
            "sdk": sdk,
            "url": f"{daphne_url}/api/agents/demo/chat",
            "token": token,
            "text": "Book m7",
            "decisions": [{"approved": approved, "reason": None if approved else "not today"}],
        }
    )
    assert result["errors"] == []
    assert result["status"] == "ready"
    first, second = result["requests"]
    assert first["messages"][-1]["role"] == "user"
    answer = second["messages"][-1]
    assert answer["role"] == "assistant"
    sent = next(p for p in answer["parts"] if p["type"] == "tool-chat_book_machine")
    assert sent["state"] == "approval-responded"
    assert sent["approval"]["approved"] is approved
    message = result["messages"][-1]
    assert message["id"] == answer["id"]  # the continuation went on in the same message
    tool = next(p for p in message["parts"] if p["type"] == "tool-chat_book_machine")
    assert tool["toolCallId"] == "call_b"
    assert tool["input"] == {"machine": "m7"}
    texts = "".join(p["text"] for p in message["parts"] if p["type"] == "text")
    if approved:
        assert tool["state"] == "output-available"
        assert tool["output"] == {"machine": "m7", "booked": True}
        assert texts == "Booked m7."
    else:
        assert tool["state"] == "output-denied"
        assert texts == "I did not book m7."
    # The model was told: the tool's result, or a refusal with the reason.
    tool_message = next(m for m in openai_server.chat_requests[-1].messages if m["role"] == "tool")
    if approved:
        assert json.loads(tool_message["content"]) == {"machine": "m7", "booked": True}
    else:
        assert "not today" in tool_message["content"]
    run = await Run.objects.aget(id=message["metadata"]["runId"])
    assert run.status == "completed"


async def test_two_calls_of_one_step_are_sent_back_together(demo_agent, openai_server, daphne_url, user):
    token = await sync_to_async(token_for)(user)
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(name="chat_book_machine", arguments={"machine": "m1"}, id="call_1"),
                ToolCall(name="chat_book_machine", arguments={"machine": "m2"}, id="call_2"),
            ]
        ),
        ChatReply(text="Booked m1, not m2."),
    )
    result = await _chat_approval(
        {
            "sdk": "ai",
            "url": f"{daphne_url}/api/agents/demo/chat",
            "token": token,
            "text": "Book m1 and m2",
            "decisions": [{"approved": True}, {"approved": False, "reason": "m2 is mine"}],
        }
    )
    assert result["errors"] == []
    assert len(result["requests"]) == 2  # the SDK sent both decisions in one request
    parts = {p["toolCallId"]: p for p in result["messages"][-1]["parts"] if p.get("toolCallId")}
    assert parts["call_1"]["state"] == "output-available"
    assert parts["call_2"]["state"] == "output-denied"
    assert "".join(p.get("text", "") for p in result["messages"][-1]["parts"]) == "Booked m1, not m2."
    assert len([r for r in openai_server.chat_requests if r.messages[-1]["role"] == "tool"]) == 1
