"""`stream()` and `agenerate()`: the event vocabulary in order, errors, aborts."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from agents.models import Run
from agents.runtime import agenerate, stream
from core.context import RequestContext
from tests.fakes.openai_server import ChatReply, Fault, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ctx(user):
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


async def _collect(agen):
    return [event.to_chunk() async for event in agen]


async def test_stream_emits_text_and_tool_chunks_in_order(openai_server, make_agent, ctx):
    await sync_to_async(make_agent)()
    openai_server.script(
        ChatReply(
            text="Let me add.", tool_calls=[ToolCall(name="test_add", arguments={"a": 1, "b": 2}, id="c1")]
        ),
        ChatReply(text="The sum is 3."),
    )
    chunks = await _collect(stream("helper", context=ctx, prompt="1+2"))
    types = [c["type"] for c in chunks]
    assert types[0] == "start"
    assert types[-1] == "finish"
    first_step = types[types.index("start-step") : types.index("finish-step") + 1]
    assert first_step[:2] == ["start-step", "text-start"]
    assert first_step.index("text-end") < first_step.index("tool-input-start")
    assert first_step[-3:] == ["tool-input-available", "tool-output-available", "finish-step"]
    assert "tool-input-delta" in first_step
    text = "".join(c["delta"] for c in chunks if c["type"] == "text-delta")
    assert text == "Let me add.The sum is 3."
    available = next(c for c in chunks if c["type"] == "tool-input-available")
    assert available == {
        "type": "tool-input-available",
        "toolCallId": "c1",
        "toolName": "test_add",
        "input": {"a": 1, "b": 2},
    }
    output = next(c for c in chunks if c["type"] == "tool-output-available")
    assert output == {"type": "tool-output-available", "toolCallId": "c1", "output": {"sum": 3}}
    start, finish = chunks[0], chunks[-1]
    assert finish["finishReason"] == "stop"
    assert finish["messageMetadata"]["usage"]["totalTokens"] > 0
    run = await Run.objects.aget(id=start["messageMetadata"]["runId"])
    assert run.status == "completed"
    assert run.result["text"] == "The sum is 3."
    assert openai_server.chat_requests[0].body["stream"] is True


async def test_streamed_calls_reuse_the_provider_connection(openai_server, make_agent, ctx):
    # The provider's body is read to its end after `[DONE]`; a response left unread would
    # close its connection and make every model call pay for a new one.
    await sync_to_async(make_agent)()
    openai_server.script(ChatReply(text="one"), ChatReply(text="two"), ChatReply(text="three"))
    before = openai_server.connections
    for prompt in ("a", "b", "c"):
        chunks = await _collect(stream("helper", context=ctx, prompt=prompt))
        assert chunks[-1]["type"] == "finish"
    assert openai_server.connections - before <= 1
    assert len(openai_server.chat_requests) == 3


async def test_a_provider_that_keeps_its_body_open_after_done_does_not_hold_the_run(
    openai_server, make_agent, ctx
):
    # The end of the body is read only briefly after `[DONE]`; the run does not wait for the
    # server's read timeout (5 s in the test settings) to finish.
    await sync_to_async(make_agent)()
    openai_server.script(ChatReply(text="done soon", linger_s=30))
    chunks = await asyncio.wait_for(_collect(stream("helper", context=ctx, prompt="hi")), timeout=2)
    assert chunks[-1]["type"] == "finish"
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "done soon"
    run = await Run.objects.aget(id=chunks[0]["messageMetadata"]["runId"])
    assert run.status == "completed"


async def test_stream_failure_mid_way_ends_with_an_error_chunk_and_keeps_the_partial(
    openai_server, make_agent, ctx
):
    await sync_to_async(make_agent)()
    openai_server.script(ChatReply(text="one two three four five six", drop_after=4))
    chunks = await _collect(stream("helper", context=ctx, prompt="count"))
    assert chunks[-1]["type"] == "error"
    assert "mid-stream" in chunks[-1]["errorText"]
    run = await Run.objects.aget()
    assert run.status == "failed"
    assert run.result["text"].startswith("one two")


async def test_stream_retries_before_the_first_chunk(openai_server, make_agent, ctx):
    await sync_to_async(make_agent)()
    openai_server.script(Fault(status=500), ChatReply(text="hello"))
    chunks = await _collect(stream("helper", context=ctx, prompt="hi"))
    assert chunks[-1]["type"] == "finish"
    assert "".join(c.get("delta", "") for c in chunks) == "hello"


async def test_closing_the_stream_aborts_the_run_and_the_provider_call(openai_server, make_agent, ctx):
    await sync_to_async(make_agent)()
    openai_server.script(ChatReply(text=" ".join(f"w{i}" for i in range(200)), chunk_delay_s=0.01))
    events = stream("helper", context=ctx, prompt="long")
    seen = []
    async for event in events:
        seen.append(event.to_chunk())
        if sum(1 for c in seen if c["type"] == "text-delta") == 3:
            break
    await events.aclose()
    run = await Run.objects.aget()
    assert run.status == "aborted"
    assert run.result["text"] == "w0 w1 w2"
    for _ in range(50):
        if openai_server.disconnects:
            break
        await asyncio.sleep(0.02)
    assert openai_server.disconnects >= 1


async def test_agenerate_returns_the_result(openai_server, make_agent, ctx):
    await sync_to_async(make_agent)()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="test_whoami", arguments={})]), ChatReply(text="done")
    )
    result = await agenerate("helper", context=ctx, prompt="who")
    assert result.text == "done"
    assert result.tool_results[0]["output"]["tenant_id"] == ctx.tenant_id
    assert openai_server.chat_requests[0].body.get("stream") is None


async def test_concurrent_agenerate_calls_each_persist_their_run(openai_server, make_agent, ctx):
    await sync_to_async(make_agent)()
    openai_server.always(ChatReply(text="ok"))
    results = await asyncio.gather(*(agenerate("helper", context=ctx, prompt=f"q{i}") for i in range(10)))
    assert {r.text for r in results} == {"ok"}
    assert await Run.objects.filter(status="completed").acount() == 10


async def test_an_aborted_stream_keeps_the_partial_answer_in_memory_marked_aborted(
    openai_server, make_agent, ctx
):
    from agents.runtime import MemoryOptions
    from memory.models import Message

    await sync_to_async(make_agent)(memory={"last_messages": 10})
    openai_server.script(ChatReply(text=" ".join(f"w{i}" for i in range(200)), chunk_delay_s=0.01))
    events = stream(
        "helper", context=ctx, prompt="talk", memory=MemoryOptions(thread_id="chat-1", resource_id="me")
    )
    deltas = 0
    async for event in events:
        deltas += event.type == "text-delta"
        if deltas == 3:
            break
    await events.aclose()
    stored = [m async for m in Message.objects.filter(thread_id="chat-1").order_by("created_at")]
    assert [(m.role, m.status) for m in stored] == [("user", "complete"), ("assistant", "aborted")]
    assert stored[0].parts == [{"type": "text", "text": "talk"}]
    assert stored[1].parts[0]["text"].startswith("w0 w1")


async def test_a_stopped_answer_still_titles_its_thread(openai_server, make_agent, ctx):
    from agents.runtime import MemoryOptions
    from memory.models import Thread

    await sync_to_async(make_agent)(memory={"last_messages": 10, "generate_titles": True})
    openai_server.script(
        ChatReply(text=" ".join(f"w{i}" for i in range(200)), chunk_delay_s=0.01),
        ChatReply(text="Counting words at length"),  # the title model's answer
    )
    events = stream(
        "helper", context=ctx, prompt="count", memory=MemoryOptions(thread_id="chat-t", resource_id="me")
    )
    deltas = 0
    async for event in events:
        deltas += event.type == "text-delta"
        if deltas == 3:
            break
    await events.aclose()
    thread = await Thread.objects.aget(id="chat-t")
    assert thread.title == "Counting words at length"
