"""Value objects of a run: options in, result out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from core.errors import Conflict, PlatformError

# How the refusal of a declined tool call begins (by the run's owner or an operator, expired, or
# cancelled): what the model is told, and how a stored tool result is known to be a declined
# call (its part says `denied`).
DECLINED_PREFIX = "Declined: the call to tool"


@dataclass(frozen=True, kw_only=True, slots=True)
class MemoryOptions:
    """Which conversation the run belongs to: the thread, and the resource (owner) it belongs to."""

    thread_id: str
    resource_id: str | None = None  # default: the request context's resource (the authenticated user)
    # The client's id of the (last) user message: sent again, it is the same message, not a new one.
    client_message_id: str | None = None
    # Replace the answer to the thread's last user message (or the one with `client_message_id`).
    regenerate: bool = False
    # The chat UI always names a thread: with `optional`, an agent whose memory is off runs
    # stateless instead of refusing the request (a client naming a thread still gets the 400).
    optional: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class RunOptions:
    max_steps: int | None = None
    model: str | None = None  # per-request override; only where the agent allows it
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] | None = None
    output_schema: type[BaseModel] | dict[str, Any] | None = None
    idempotency_key: str | None = None
    run_id: str | None = None
    # Every tool call of this run waits for a person's approval (`requireToolApproval`).
    require_tool_approval: bool = False
    # None: the agent's setting. True: a suspended tool on the thread is resumed from this
    # run's user message (`autoResumeSuspendedTools`).
    auto_resume_suspended_tools: bool | None = None
    # Run this stored version of the agent instead of the current one (evals compare versions).
    agent_version: int | None = None


@dataclass(slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "promptTokens": self.prompt_tokens,
            "completionTokens": self.completion_tokens,
            "totalTokens": self.total_tokens,
        }


@dataclass(kw_only=True)
class RunResult:
    run_id: str
    trace_id: str
    agent_id: str
    agent_version: int
    status: str = "completed"
    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    finish_reason: str = "stop"
    steps: int = 0
    model: str = ""
    object: Any = None
    error: dict[str, Any] | None = None
    replayed: bool = False
    # The calls a suspended run waits on (`status == "suspended"`), in the shape of
    # `agents.runs.selectors.gate_dict`.
    pending_tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The stored and returned shape (Mastra's generate response, camelCase)."""
        result: dict[str, Any] = {
            "runId": self.run_id,
            "traceId": self.trace_id,
            "agentId": self.agent_id,
            "agentVersion": self.agent_version,
            "status": self.status,
            "text": self.text,
            "toolCalls": self.tool_calls,
            "toolResults": self.tool_results,
            "usage": self.usage.as_dict(),
            "finishReason": self.finish_reason,
            "steps": self.steps,
            "model": self.model,
        }
        if self.object is not None:
            result["object"] = self.object
        if self.error is not None:
            result["error"] = self.error
        if self.pending_tool_calls:
            result["pendingToolCalls"] = self.pending_tool_calls
        return result


class RunError(PlatformError):
    """A run could not finish (the model misbehaved, a limit was hit)."""

    code = "run_failed"
    status = 422


class InvalidToolCalls(RunError):
    code = "invalid_tool_calls"


class StructuredOutputInvalid(RunError):
    code = "structured_output_invalid"


class RunInProgress(Conflict):
    code = "run_in_progress"
