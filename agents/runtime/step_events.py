"""The events of a run as a stream shows them: a model call's deltas, a suspended run's end,
a replayed run."""

from __future__ import annotations

from typing import Any

from agents.providers.config import ModelRef
from agents.providers.openai_client import ModelResponse
from agents.runtime import events as ev
from agents.runtime.types import RunResult


class StepEvents:
    """The deltas of one model call turned into events; its answer is left on `response`."""

    def __init__(self, step: int) -> None:
        self.text_id = f"text-{step}"
        self.reasoning_id = f"reasoning-{step}"
        self.text_open = False
        self.reasoning_open = False
        self.partial: list[str] = []
        self.response: ModelResponse | None = None
        self.model: str | None = None

    def set_model(self, ref: ModelRef) -> None:
        self.model = ref.id

    def events(self, kind: str, value: Any) -> list[ev.Event]:
        if kind == "text":
            self.partial.append(value)
            if self.text_open:
                return [ev.TextDelta(id=self.text_id, delta=value)]
            self.text_open = True
            return [
                *self._end_reasoning(),
                ev.TextStart(id=self.text_id),
                ev.TextDelta(id=self.text_id, delta=value),
            ]
        if kind == "reasoning":
            if self.reasoning_open:
                return [ev.ReasoningDelta(id=self.reasoning_id, delta=value)]
            self.reasoning_open = True
            return [
                ev.ReasoningStart(id=self.reasoning_id),
                ev.ReasoningDelta(id=self.reasoning_id, delta=value),
            ]
        if kind == "tool-start":
            return [*self._end_text(), ev.ToolInputStart(tool_call_id=value.id, tool_name=value.name)]
        if kind == "tool-delta":
            return [ev.ToolInputDelta(tool_call_id=value[0], delta=value[1])]
        self.response = value
        return [*self._end_reasoning(), *self._end_text()]

    def _end_text(self) -> list[ev.Event]:
        if not self.text_open:
            return []
        self.text_open = False
        return [ev.TextEnd(id=self.text_id)]

    def _end_reasoning(self) -> list[ev.Event]:
        if not self.reasoning_open:
            return []
        self.reasoning_open = False
        return [ev.ReasoningEnd(id=self.reasoning_id)]


def suspended_finish(metadata: dict[str, Any], pending: list[dict[str, Any]]) -> ev.Finish:
    """The last event of a suspended run: the SDK's `tool-calls` reason (it knows no other),
    `messageMetadata.status` "suspended" and the calls it waits on."""
    return ev.Finish(
        finish_reason="tool-calls",
        metadata={
            **metadata,
            "status": "suspended",
            "finishReason": "suspended",
            "pendingToolCalls": pending,
        },
    )


def replay_events(result: RunResult) -> list[ev.Event]:
    """The events of a run replayed for its idempotency key: its id, its text, its end."""
    metadata = {
        "runId": result.run_id,
        "traceId": result.trace_id,
        "agentId": result.agent_id,
        "replayed": True,
    }
    events: list[ev.Event] = [ev.Start(message_id=result.run_id, metadata=metadata)]
    if result.text:
        events += [
            ev.TextStart(id="text-0"),
            ev.TextDelta(id="text-0", delta=result.text),
            ev.TextEnd(id="text-0"),
        ]
    events.append(ev.Finish(finish_reason=result.finish_reason, metadata=metadata))  # type: ignore[arg-type]
    return events
