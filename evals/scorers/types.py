"""What a scorer reads (the case and the run's outcome) and what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseSpec:
    """A case as an experiment froze it (see `Case` for the meaning of each field)."""

    name: str
    input_messages: list[dict[str, Any]]
    request_context: Mapping[str, Any] = field(default_factory=dict)
    expected_output: str = ""
    expected_tools: list[str] = field(default_factory=list)
    forbidden_tools: list[str] = field(default_factory=list)
    expected_tool_calls: list[dict[str, Any]] = field(default_factory=list)
    reference_context: list[str] = field(default_factory=list)
    assertions: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseSpec:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True, kw_only=True, slots=True)
class ToolCallRecord:
    name: str
    arguments: dict[str, Any]
    side_effect: str = "none"
    is_error: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class StepRecord:
    """One step of a workflow run's journal: its path, id and how its latest attempt ended."""

    path: str
    step_id: str
    status: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RunOutcome:
    """The part of an agent run (or a workflow run: `steps` and `workflow_run_id` set) a scorer judges."""

    status: str
    text: str = ""
    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    object: Any = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: float = 0.0
    run_id: str = ""
    trace_id: str = ""
    steps: list[StepRecord] = field(default_factory=list)
    workflow_run_id: str = ""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "text": self.text,
            "toolCalls": [
                {"name": c.name, "arguments": c.arguments, "sideEffect": c.side_effect, "isError": c.is_error}
                for c in self.tool_calls
            ],
            "object": self.object,
            "usage": {"promptTokens": self.prompt_tokens, "completionTokens": self.completion_tokens},
            "latencyMs": self.latency_ms,
            "runId": self.run_id,
            "traceId": self.trace_id,
            **(
                {
                    "workflowRunId": self.workflow_run_id,
                    "steps": [{"path": s.path, "stepId": s.step_id, "status": s.status} for s in self.steps],
                }
                if self.workflow_run_id
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunOutcome:
        usage = data.get("usage") or {}
        return cls(
            status=data.get("status", "completed"),
            text=data.get("text", ""),
            tool_calls=[
                ToolCallRecord(
                    name=c["name"],
                    arguments=c.get("arguments") or {},
                    side_effect=c.get("sideEffect", "none"),
                    is_error=bool(c.get("isError")),
                )
                for c in data.get("toolCalls") or []
            ],
            object=data.get("object"),
            prompt_tokens=int(usage.get("promptTokens", 0)),
            completion_tokens=int(usage.get("completionTokens", 0)),
            latency_ms=float(data.get("latencyMs", 0.0)),
            run_id=data.get("runId", ""),
            trace_id=data.get("traceId", ""),
            steps=[
                StepRecord(path=s["path"], step_id=s["stepId"], status=s["status"])
                for s in data.get("steps") or []
            ],
            workflow_run_id=data.get("workflowRunId", ""),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Score:
    """A scorer's verdict: `value` in 0..1, whether it passed, why, and anything worth keeping."""

    value: float
    passed: bool
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.value <= 1.0:
            raise ValueError(f"A score's value must lie in 0..1, not {self.value}.")


class ScorerError(Exception):
    """A scorer could not score (a judge that failed or answered nonsense): recorded as an
    error, never as a zero."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
