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
    - The chart planner's structured-output request answers with a bar chart of the rows.
    - "chart" or "sales" calls `demo_sales`, then `render_data` with its rows, then answers
      with the `[chart:<id>]` marker between two paragraphs.
    - A question about time calls `current_time` (for a city it knows, else Paris); a research topic calls
      `workspace_append_note`; a tool named in the message is called.
    - The research workflow's prompts (notes, outline, report) get short answers of their kind.
    - Anything else is echoed back.
    """
    messages = body.get("messages") or [{}]
    last = messages[-1]
    if str(messages[0].get("content") or "").startswith("Write a short title"):
        return ChatReply(text=_title(str(last.get("content") or "")))
    if (body.get("response_format") or {}).get("json_schema", {}).get("name") == "echarts_option":
        return ChatReply(text=json.dumps(chart_plan_for(json.loads(str(last.get("content") or "{}")))))
    tools = [t["function"]["name"] for t in body.get("tools") or []]
    if last.get("role") == "tool":
        return _after_tool(messages, tools)
    text = str(last.get("content") or "")
    lowered = text.lower()
    research = _research(text)
    if research is not None:
        return ChatReply(text=research)
    if "demo_sales" in tools and ("chart" in lowered or "sales" in lowered):
        return ChatReply(tool_calls=[ToolCall(name="demo_sales", arguments={"year": 2025})])
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


def _after_tool(messages: list[dict[str, Any]], tools: list[str]) -> Step:
    """Quote a tool's result; the demo sales go on to `render_data`, whose chart id is placed."""
    last = messages[-1]
    content = str(last.get("content") or "")
    calls = next((m.get("tool_calls") or [] for m in reversed(messages) if m.get("role") == "assistant"), [])
    name = next((c["function"]["name"] for c in calls if c.get("id") == last.get("tool_call_id")), "")
    result = json.loads(content) if content.startswith("{") else {}
    if name == "demo_sales" and "rows" in result and "render_data" in tools:
        rows = [{"month": r["month"], "revenue": r["revenue"]} for r in result["rows"]]
        title = f"Demo shop revenue by month, {result.get('year', '')}".strip(", ")
        return ChatReply(tool_calls=[ToolCall(name="render_data", arguments={"title": title, "data": rows})])
    if name == "render_data" and "chartId" in result:
        rows = next(
            (
                json.loads(c["function"]["arguments"]).get("data", [])
                for c in calls
                if c.get("id") == last.get("tool_call_id")
            ),
            [],
        )
        best = max(rows, key=lambda r: r.get("revenue", 0), default={})
        return ChatReply(
            text=(
                "Here is the demo shop's revenue by month:\n\n"
                f"[chart:{result['chartId']}]\n\n"
                f"Revenue is highest in **{best.get('month', '?')}** ({best.get('revenue', '?')} EUR). "
                "(The figures are made up, and this answer comes from the scripted demo model.)"
            )
        )
    return ChatReply(text=f"Here is what I found: `{content}`")


def chart_plan_for(dataset: dict[str, Any]) -> dict[str, Any]:
    """What the chart planner answers: a bar chart of the first text column against the numbers."""
    rows = dataset.get("rows") or []
    columns = list(dataset.get("columns") or (rows[0] if rows else {}))
    category = next((c for c in columns if any(isinstance(r.get(c), str) for r in rows)), None)
    measures = [c for c in columns if c != category and all(isinstance(r.get(c), int | float) for r in rows)]
    labels = [r.get(category) for r in rows] if category else list(range(1, len(rows) + 1))
    return {
        "chartType": "bar",
        "option": {
            "title": {"text": dataset.get("title", "")},
            "tooltip": {"trigger": "axis"},
            "legend": {},
            "xAxis": {"type": "category", "data": labels},
            "yAxis": {"type": "value"},
            "series": [{"type": "bar", "name": m, "data": [r.get(m) for r in rows]} for m in measures],
        },
    }


def _research(text: str) -> str | None:
    """Answers to the research workflow's steps (workflows/examples/research.py)."""
    topic = text.split(":", 1)[-1].strip()
    if text.startswith("Gather short research notes"):
        return f"- {topic} matters to many people.\n- It has a history.\n- It raises open questions."
    if text.startswith("Draft a three-part outline"):
        return f"1. What {topic} is\n2. Why {topic} matters\n3. What is still open"
    if text.startswith("Write a short report on"):
        subject = text.removeprefix("Write a short report on").split(".", 1)[0].strip()
        return (
            f"# {subject}\n\nA short report following the approved outline. (From the scripted demo model.)"
        )
    return None


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
