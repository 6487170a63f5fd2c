"""The run state that survives the process: what a suspended run needs to continue anywhere.

`RunState` is plain JSON (stored in `Run.state`): the messages so far, the step, usage,
the fallback chain and the position of the model that answered last, the run's options,
the current step's tool calls (`StepCall`: each with its gate and, once it ran, its
recorded outcome) and the memory session. A continuation in another process rebuilds the
turn from it and never runs again a call whose outcome is recorded.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from agents.runtime.turn import PreparedCall, ToolOutcome

STATE_VERSION = 1


def args_hash(arguments: str) -> str:
    """sha256 of the arguments exactly as the model sent them (what an approval is bound to)."""
    return hashlib.sha256((arguments or "").encode()).hexdigest()


@dataclass(kw_only=True, slots=True)
class StepCall:
    """One tool call of the step in progress, serialisable.

    `gate`: None (runs at once), "approval" (waits for a decision) or "suspension" (the
    tool called `ctx.suspend`). `done` with `output`/`error` once its outcome is recorded.
    """

    id: str
    name: str
    arguments: str
    input: Any = None
    error: str | None = None  # refused before running (unknown tool, invalid arguments)
    gate: str | None = None
    gate_id: str | None = None
    suspend_payload: dict[str, Any] | None = None
    done: bool = False
    output: Any = None
    outcome_error: str | None = None
    denied: bool = False

    @classmethod
    def of(cls, call: PreparedCall, *, gate: str | None) -> StepCall:
        return cls(
            id=call.id,
            name=call.name,
            arguments=call.arguments,
            input=call.input,
            error=call.error,
            gate=gate,
            gate_id=str(uuid.uuid4()) if gate else None,
        )

    def record(self, outcome: ToolOutcome) -> None:
        self.done = True
        self.output = outcome.output
        self.outcome_error = outcome.error

    def deny(self, message: str) -> None:
        self.done, self.denied, self.outcome_error = True, True, message

    def outcome(self) -> ToolOutcome:
        return ToolOutcome(id=self.id, name=self.name, output=self.output, error=self.outcome_error)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True, slots=True)
class RunState:
    messages: list[dict[str, Any]]
    step: int
    usage: dict[str, int]
    text: str
    finish_reason: str
    tool_calls: list[dict[str, Any]]
    tool_results: list[dict[str, Any]]
    invalid_calls: int
    chain: list[str]
    chain_position: int
    options: dict[str, Any]
    step_calls: list[dict[str, Any]] = field(default_factory=list)
    memory: dict[str, Any] | None = None
    thread_id: str = ""
    version: int = STATE_VERSION

    def as_dict(self) -> dict[str, Any]:
        """The fields as a dict, sharing their values (callers redact it, which copies, then
        serialise it): `dataclasses.asdict` deep-copied every message at every checkpoint."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunState:
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})

    def calls(self) -> list[StepCall]:
        return [StepCall(**call) for call in self.step_calls]
