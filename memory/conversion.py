"""Stored message parts to OpenAI chat-format messages."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Protocol

TOOL_PART_TYPES = frozenset({"tool-call", "tool-result", "tool-approval-request"})


class _StoredMessage(Protocol):
    role: str
    parts: Any


def parts_text(parts: list[dict[str, Any]]) -> str:
    """The text parts of a message joined: what is embedded and searched."""
    return "\n".join(str(p.get("text", "")) for p in parts if p.get("type") == "text").strip()


def _file_text(part: dict[str, Any]) -> str:
    return f"[file: {part.get('filename') or part.get('url', '')} ({part.get('mediaType', '')})]"


def _tool_output(part: dict[str, Any]) -> str:
    output = part.get("output")
    return output if isinstance(output, str) else json.dumps(output, default=str)


def _convert_one(role: str, parts: list[dict[str, Any]], answered: set[str]) -> list[dict[str, Any]]:
    if role in ("user", "system"):
        texts = [
            str(p.get("text", "")) if p.get("type") == "text" else _file_text(p)
            for p in parts
            if p.get("type") in ("text", "file")
        ]
        return [{"role": role, "content": "\n".join(texts)}] if texts else []
    out: list[dict[str, Any]] = []
    text: list[str] = []
    calls: list[dict[str, Any]] = []

    def flush() -> None:
        content = "\n".join(t for t in text if t)
        if content or calls:
            message: dict[str, Any] = {"role": "assistant", "content": content or None}
            if calls:
                message["tool_calls"] = list(calls)
            out.append(message)
        text.clear()
        calls.clear()

    for part in parts:
        kind = part.get("type")
        if kind == "text":
            if calls:
                flush()
            text.append(str(part.get("text", "")))
        elif kind == "tool-call" and part.get("toolCallId") in answered:
            calls.append(
                {
                    "id": part["toolCallId"],
                    "type": "function",
                    "function": {
                        "name": part.get("toolName", ""),
                        "arguments": json.dumps(part.get("input", {})),
                    },
                }
            )
        elif kind == "tool-result":
            flush()
            out.append(
                {"role": "tool", "tool_call_id": part.get("toolCallId"), "content": _tool_output(part)}
            )
    flush()
    return out


def to_openai_messages(
    messages: Iterable[_StoredMessage], *, drop_tool_calls: bool = False
) -> list[dict[str, Any]]:
    """Convert stored messages (oldest first) to chat-format history.

    A tool call without a result in the same history (an aborted run) is left out,
    since chat APIs reject an unanswered call. Reasoning and approval requests are
    not replayed. With `drop_tool_calls`, tool traffic is filtered out entirely.
    """
    messages = list(messages)
    answered = {
        str(p.get("toolCallId"))
        for m in messages
        for p in (m.parts or [])
        if p.get("type") == "tool-result" and not drop_tool_calls
    }
    history: list[dict[str, Any]] = []
    for message in messages:
        parts = [
            p for p in (message.parts or []) if not (drop_tool_calls and p.get("type") in TOOL_PART_TYPES)
        ]
        history.extend(_convert_one(message.role, parts, answered))
    return history
