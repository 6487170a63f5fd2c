"""The real AI SDK chat (Node) resumes a run after its connection drops, and regenerates.

`tests/node/resume_chat.mjs` drives the SDK's `AbstractChat` (what `useChat()` wraps) with
`DefaultChatTransport` against daphne: the first stream goes through a proxy that cuts the
connection after the first text delta; `resumeStream()` (what `useChat({resume: true})`
calls on mount) then reconnects through `GET <chat route>/<chatId>/stream`, in that tab and
in a fresh one, while the model is still answering.
"""

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

ANSWER = " ".join(f"word{i}" for i in range(40)) + "."


@pytest.fixture
def memory_agent(openai_server: Any, transactional_db: None) -> Any:
    from agents.services import agent_save, tools_sync

    tools_sync()
    return agent_save(
        slug="resumable",
        name="Resumable",
        instructions="Answer.",
        model="scripted/gpt-test",
        memory={"last_messages": 10},
    )


async def test_the_sdk_resumes_a_dropped_stream_and_regenerates(
    memory_agent, openai_server, daphne_url, user
):
    from memory.models import Message

    node = shutil.which("node")
    assert node, "Node.js is required for this test"
    assert (NODE_DIR / "node_modules" / "ai").is_dir(), "run scripts/test-setup.d/30-node-ai-sdk.sh"
    token = await sync_to_async(token_for)(user)
    # Slow enough that the resumes join while the model is still answering.
    openai_server.script(ChatReply(text=ANSWER, chunk_delay_s=0.05), ChatReply(text="A second answer."))
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "resume_chat.mjs"),
        f"{daphne_url}/api/agents/resumable/chat",
        token,
        "sdk-resume-1",
        "Tell me a long story",
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"the Node client did not finish: {err.decode()}") from None
    assert proc.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out)

    # The first stream really dropped mid-answer: the SDK holds a partial answer and an error.
    dropped = report["dropped"]
    assert dropped["cuts"] == 1
    assert dropped["status"] == "error"
    assert dropped["messages"][1]["role"] == "assistant"
    assert 0 < len(dropped["messages"][1]["text"]) < len(ANSWER)

    # Both tabs resumed through the SDK's reconnect route and hold the whole answer, once.
    resumed = report["resumed"]
    assert resumed["status"] == ["ready", "ready"]
    for messages in (resumed["tab"], resumed["reloaded"]):
        assert [(m["role"], m["text"]) for m in messages] == [
            ("user", "Tell me a long story"),
            ("assistant", ANSWER),
        ]
    resumes = [r for r in report["requests"] if r["method"] == "GET"]
    assert resumes[0]["url"] == f"{daphne_url}/api/agents/resumable/chat/sdk-resume-1/stream"
    assert [r["status"] for r in resumes] == [200, 200, 204]  # two resumes in flight, one after the end

    # After the run ended, resuming answers 204 and the SDK leaves the messages alone.
    assert report["afterEnd"]["status"] == "ready"
    assert report["afterEnd"]["messages"] == resumed["reloaded"]

    # regenerate() replaced the last answer, in the SDK and in the thread's stored messages.
    regenerated = report["regenerated"]
    assert regenerated["status"] == "ready"
    assert [(m["role"], m["text"]) for m in regenerated["messages"]] == [
        ("user", "Tell me a long story"),
        ("assistant", "A second answer."),
    ]
    stored = [
        (m.role, m.text)
        async for m in Message.objects.filter(thread_id="sdk-resume-1").order_by("created_at", "id")
    ]
    assert stored == [("user", "Tell me a long story"), ("assistant", "A second answer.")]
    assert len(report["errors"]) == 1  # the drop, reported once


CONTINUED = " ".join(f"booked{i}" for i in range(40)) + "."


@pytest.mark.parametrize("sdk", ["ai", "ai6"])
async def test_a_reload_during_an_approved_continuation_resumes_it_to_the_end(
    demo_agent, openai_server, daphne_url, user, sdk
):
    """`useChat({resume: true})` while the run continues after its approval: the resumed stream
    is the run from its first chunk, through the suspension, to the continuation's end."""
    node = shutil.which("node")
    assert node, "Node.js is required for this test"
    assert (NODE_DIR / "node_modules" / sdk).is_dir(), "run scripts/test-setup.d/30-node-ai-sdk.sh"
    token = await sync_to_async(token_for)(user)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m7"}, id="call_r")]),
        # Slow enough that the reload joins while the continuation is still answering.
        ChatReply(text=CONTINUED, chunk_delay_s=0.05),
    )
    config = {
        "sdk": sdk,
        "url": f"{daphne_url}/api/agents/demo/chat",
        "token": token,
        "chatId": f"sdk-resume-approval-{sdk}",
        "text": "Book m7",
    }
    proc = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "resume_approval.mjs"),
        json.dumps(config),
        cwd=NODE_DIR,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 120)
    except TimeoutError:
        proc.kill()
        out, err = await proc.communicate()
        raise AssertionError(f"the Node client did not finish: {err.decode()}") from None
    assert proc.returncode == 0, err.decode()
    report: dict[str, Any] = json.loads(out)
    assert report["errors"] == []
    resumes = [r for r in report["requests"] if r["method"] == "GET"]
    assert [r["status"] for r in resumes] == [200]

    for name in ("tab", "reloaded"):
        state = report[name]
        assert state["status"] == "ready", name
        message = state["messages"][-1]
        assert message["role"] == "assistant"
        tool = next(p for p in message["parts"] if p["type"] == "tool-chat_book_machine")
        assert (tool["toolCallId"], tool["state"]) == ("call_r", "output-available"), name
        assert tool["output"] == {"machine": "m7", "booked": True}
        texts = "".join(p["text"] for p in message["parts"] if p["type"] == "text")
        assert texts == CONTINUED, name
    assert report["reloaded"]["messages"][-1]["id"] == report["tab"]["messages"][-1]["id"]
