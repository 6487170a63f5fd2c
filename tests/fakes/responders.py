"""Rule-based stand-ins for a model, for the scripted server's command line and benchmarks."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.fakes.openai_server import ChatReply, Step, ToolCall


def demo_responder(body: dict[str, Any]) -> Step:
    """A rule-based stand-in for a real model, for trying the product without one.

    - It answers a tool result by quoting it.
    - "my name is X" / "I live in X" / "remember ...": saves it with `update_working_memory`.
    - "what is my name" / "where do I live" / "what do you remember": answers from the
      working-memory block and recalled messages in its system prompt.
    - A request for a thread title answers with the first words of the conversation.
    - A question about time calls `current_time` (for a city it knows, else Paris); a research topic calls
      `workspace_append_note`; a tool named in the message is called.
    - Anything else is echoed back.
    """
    messages = body.get("messages") or [{}]
    last = messages[-1]
    if str(messages[0].get("content") or "").startswith("Write a short title"):
        return ChatReply(text=_title(str(last.get("content") or "")))
    if last.get("role") == "tool":
        return ChatReply(text=f"Here is what I found: `{last.get('content')}`")
    text = str(last.get("content") or "")
    lowered = text.lower()
    tools = [t["function"]["name"] for t in body.get("tools") or []]
    system = "\n".join(str(m.get("content") or "") for m in messages if m.get("role") == "system")
    facts = re.findall(r"(?:my name is|i live in|remember that)\s+([^.!?\n]+)", text, flags=re.IGNORECASE)
    if facts and "update_working_memory" in tools:
        note = "\n".join(f"- {fact.strip()}" for fact in facts)
        return ChatReply(
            tool_calls=[
                ToolCall(name="update_working_memory", arguments={"content": f"# About the user\n{note}\n"})
            ]
        )
    if any(q in lowered for q in ("my name", "where do i live", "what do you remember", "what did i")):
        remembered = _between(system, "<working_memory", "</working_memory>")
        recalled = _between(system, "<recalled_messages>", "</recalled_messages>")
        return ChatReply(text=f"From my memory:\n\n{remembered or '(nothing yet)'}\n\n{recalled}".strip())
    if "current_time" in tools and "time" in lowered:
        timezone = next((tz for city, tz in _CITIES.items() if city in lowered), "Europe/Paris")
        return ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": timezone})])
    if "workspace_append_note" in tools:
        return ChatReply(
            tool_calls=[
                ToolCall(
                    name="workspace_append_note", arguments={"title": "findings", "text": f"Notes on {text}"}
                )
            ]
        )
    for name in tools:
        if name in text:
            return ChatReply(tool_calls=[ToolCall(name=name, arguments={})])
    return ChatReply(text=f"You said: **{text}**. (This answer comes from the scripted demo model.)")


_CITIES = {
    "tokyo": "Asia/Tokyo",
    "new york": "America/New_York",
    "london": "Europe/London",
    "sydney": "Australia/Sydney",
    "berlin": "Europe/Berlin",
    "san francisco": "America/Los_Angeles",
}


def _title(excerpt: str) -> str:
    """The first six words the user said (the excerpt's lines read `role: text`)."""
    said = next((line[len("user:") :] for line in excerpt.splitlines() if line.startswith("user:")), excerpt)
    words = re.sub(r"[*_`#]", "", said).split()[:6]
    return " ".join(words).rstrip(".?!") or "New conversation"


def _between(text: str, start: str, end: str) -> str:
    if start not in text or end not in text:
        return ""
    inner = text.split(start, 1)[1].split(end, 1)[0]
    return inner.split(">", 1)[1].strip() if start.endswith("_memory") else inner.strip()


def bench_responder(body: dict[str, Any]) -> Step:
    """For benchmarks: a tool call when a tool is offered and the prompt says `lookup`, then an answer."""
    last = body["messages"][-1]
    if last.get("role") == "tool":
        return ChatReply(text="The value is " + str(json.loads(last["content"]).get("value")))
    if body.get("tools") and "lookup" in str(last.get("content")):
        return ChatReply(
            tool_calls=[
                ToolCall(name=body["tools"][0]["function"]["name"], arguments={"key": "abc"}, id="call_1")
            ]
        )
    return ChatReply(text="Hello! How can I help you today?")


RESPONDERS: dict[str, Callable[[dict[str, Any]], Step] | None] = {
    "demo": demo_responder,
    "bench": bench_responder,
    "none": None,
}
