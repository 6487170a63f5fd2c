"""The one event vocabulary of a run: the AI SDK UI message stream (v1) chunks.

`Runtime.stream()` yields these objects; the SSE route and the WebSocket
consumer serialise them with `to_chunk()` and nothing else, so every edge speaks
the same language. Field names on the wire are the AI SDK's (camelCase); the
client's schema is strict, so a chunk carries no key the SDK does not know:
extra data travels in `messageMetadata` or in `data-*` parts.

Approval and suspension use the SDK's own `tool-approval-request` chunk (AI SDK
6 and later) and `data-*` parts (`data-tool-suspended`, `data-run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

FinishReason = Literal["stop", "length", "content-filter", "tool-calls", "error", "other"]


class Event:
    """Base of every chunk; subclasses are frozen dataclasses."""

    __slots__ = ()
    type: ClassVar[str]

    def to_chunk(self) -> dict[str, Any]:
        raise NotImplementedError


def _compact(chunk: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in chunk.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Start(Event):
    message_id: str | None = None
    metadata: dict[str, Any] | None = None
    type: ClassVar[str] = "start"

    def to_chunk(self) -> dict[str, Any]:
        return _compact({"type": "start", "messageId": self.message_id, "messageMetadata": self.metadata})


@dataclass(frozen=True, slots=True)
class StartStep(Event):
    type: ClassVar[str] = "start-step"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "start-step"}


@dataclass(frozen=True, slots=True)
class TextStart(Event):
    id: str
    type: ClassVar[str] = "text-start"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "text-start", "id": self.id}


@dataclass(frozen=True, slots=True)
class TextDelta(Event):
    id: str
    delta: str
    type: ClassVar[str] = "text-delta"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "text-delta", "id": self.id, "delta": self.delta}


@dataclass(frozen=True, slots=True)
class TextEnd(Event):
    id: str
    type: ClassVar[str] = "text-end"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "text-end", "id": self.id}


@dataclass(frozen=True, slots=True)
class ReasoningStart(Event):
    id: str
    type: ClassVar[str] = "reasoning-start"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "reasoning-start", "id": self.id}


@dataclass(frozen=True, slots=True)
class ReasoningDelta(Event):
    id: str
    delta: str
    type: ClassVar[str] = "reasoning-delta"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "reasoning-delta", "id": self.id, "delta": self.delta}


@dataclass(frozen=True, slots=True)
class ReasoningEnd(Event):
    id: str
    type: ClassVar[str] = "reasoning-end"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "reasoning-end", "id": self.id}


@dataclass(frozen=True, slots=True)
class ToolInputStart(Event):
    tool_call_id: str
    tool_name: str
    title: str | None = None  # the tool's declared label ("Checking machine availability…")
    type: ClassVar[str] = "tool-input-start"

    def to_chunk(self) -> dict[str, Any]:
        return _compact(
            {
                "type": "tool-input-start",
                "toolCallId": self.tool_call_id,
                "toolName": self.tool_name,
                "title": self.title,
            }
        )


@dataclass(frozen=True, slots=True)
class ToolInputDelta(Event):
    tool_call_id: str
    delta: str
    type: ClassVar[str] = "tool-input-delta"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "tool-input-delta", "toolCallId": self.tool_call_id, "inputTextDelta": self.delta}


@dataclass(frozen=True, slots=True)
class ToolInputAvailable(Event):
    tool_call_id: str
    tool_name: str
    input: Any
    type: ClassVar[str] = "tool-input-available"

    def to_chunk(self) -> dict[str, Any]:
        return {
            "type": "tool-input-available",
            "toolCallId": self.tool_call_id,
            "toolName": self.tool_name,
            "input": self.input,
        }


@dataclass(frozen=True, slots=True)
class ToolInputError(Event):
    """Arguments the model produced could not be parsed or validated."""

    tool_call_id: str
    tool_name: str
    input: Any
    error_text: str
    type: ClassVar[str] = "tool-input-error"

    def to_chunk(self) -> dict[str, Any]:
        return {
            "type": "tool-input-error",
            "toolCallId": self.tool_call_id,
            "toolName": self.tool_name,
            "input": self.input,
            "errorText": self.error_text,
        }


@dataclass(frozen=True, slots=True)
class ToolOutputAvailable(Event):
    tool_call_id: str
    output: Any
    type: ClassVar[str] = "tool-output-available"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "tool-output-available", "toolCallId": self.tool_call_id, "output": self.output}


@dataclass(frozen=True, slots=True)
class ToolOutputError(Event):
    tool_call_id: str
    error_text: str
    type: ClassVar[str] = "tool-output-error"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "tool-output-error", "toolCallId": self.tool_call_id, "errorText": self.error_text}


@dataclass(frozen=True, slots=True)
class ToolApprovalRequest(Event):
    """The run stopped until a person approves or declines this tool call (AI SDK 6+)."""

    approval_id: str
    tool_call_id: str
    type: ClassVar[str] = "tool-approval-request"

    def to_chunk(self) -> dict[str, Any]:
        return {
            "type": "tool-approval-request",
            "approvalId": self.approval_id,
            "toolCallId": self.tool_call_id,
        }


@dataclass(frozen=True, slots=True)
class ToolOutputDenied(Event):
    tool_call_id: str
    type: ClassVar[str] = "tool-output-denied"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "tool-output-denied", "toolCallId": self.tool_call_id}


@dataclass(frozen=True, slots=True)
class Data(Event):
    """A `data-<name>` part: run info, tool suspension, working memory updates."""

    name: str
    data: Any
    id: str | None = None
    transient: bool | None = None
    type: ClassVar[str] = "data"

    def to_chunk(self) -> dict[str, Any]:
        return _compact(
            {"type": f"data-{self.name}", "id": self.id, "data": self.data, "transient": self.transient}
        )


@dataclass(frozen=True, slots=True)
class FinishStep(Event):
    type: ClassVar[str] = "finish-step"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "finish-step"}


@dataclass(frozen=True, slots=True)
class MessageMetadata(Event):
    metadata: dict[str, Any]
    type: ClassVar[str] = "message-metadata"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "message-metadata", "messageMetadata": self.metadata}


@dataclass(frozen=True, slots=True)
class Finish(Event):
    finish_reason: FinishReason | None = None
    metadata: dict[str, Any] | None = None
    type: ClassVar[str] = "finish"

    def to_chunk(self) -> dict[str, Any]:
        return _compact(
            {"type": "finish", "finishReason": self.finish_reason, "messageMetadata": self.metadata}
        )


# The reason of the `abort` that ends a run stopped by a cancel (`agents.runtime.cancel`).
CANCELLED_REASON = "The run was cancelled."


@dataclass(frozen=True, slots=True)
class Abort(Event):
    reason: str | None = None
    type: ClassVar[str] = "abort"

    def to_chunk(self) -> dict[str, Any]:
        return _compact({"type": "abort", "reason": self.reason})


@dataclass(frozen=True, slots=True)
class Error(Event):
    error_text: str
    type: ClassVar[str] = "error"

    def to_chunk(self) -> dict[str, Any]:
        return {"type": "error", "errorText": self.error_text}
