"""The tool loop without I/O: what to send next, and what to do with each answer.

The sync and async drivers (`agents.runtime.drivers`) perform the model calls
and tool executions; this module decides everything else, so both drivers
behave the same.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from agents.providers.openai_client import ModelResponse, ToolCallRequest
from agents.runtime.spec import AgentSpec
from agents.runtime.types import InvalidToolCalls, RunOptions, StructuredOutputInvalid, Usage
from agents.tools.registry import ToolDefinition

MAX_INVALID_TOOL_CALLS = 3
_FINISH = {"stop": "stop", "length": "length", "tool_calls": "tool-calls", "content_filter": "content-filter"}


@dataclass(slots=True)
class PreparedCall:
    """A tool call the model asked for: validated and ready, or refused with an error for the model."""

    id: str
    name: str
    arguments: str
    input: Any = None
    args: BaseModel | None = None
    definition: ToolDefinition | None = None
    error: str | None = None


@dataclass(slots=True)
class ToolOutcome:
    id: str
    name: str
    output: Any = None
    error: str | None = None
    rejected_field: str | None = None  # set when the tool refused its input (`ToolInputError`)
    rejected: bool = False
    suspended: dict[str, Any] | None = None  # the payload of `ctx.suspend` (the call waits)

    @property
    def is_error(self) -> bool:
        return self.error is not None

    def content(self) -> str:
        if self.error is not None:
            return json.dumps({"error": self.error})
        return json.dumps(self.output, default=str)


@dataclass(kw_only=True)
class Turn:
    spec: AgentSpec
    messages: list[dict[str, Any]]
    tools: dict[str, ToolDefinition]
    options: RunOptions
    step: int = 0
    usage: Usage = field(default_factory=Usage)
    text: str = ""
    finish_reason: str = "stop"
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    invalid_calls: int = 0
    done: bool = False
    structured: Any = None

    @property
    def max_steps(self) -> int:
        return max(1, self.options.max_steps or self.spec.max_steps)

    def request(self) -> dict[str, Any]:
        """The chat completions arguments for the next step (the model is chosen by the driver)."""
        request: dict[str, Any] = {"messages": self.messages}
        settings = self.spec.model_settings
        for key in ("temperature", "top_p", "max_tokens", "seed", "presence_penalty", "frequency_penalty"):
            if settings.get(key) is not None:
                request[key] = settings[key]
        if self.tools:
            request["tools"] = [definition.openai_spec(name) for name, definition in self.tools.items()]
            if self.options.tool_choice is not None:
                request["tool_choice"] = self.options.tool_choice
        schema = self._output_json_schema()
        if schema is not None:
            request["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": schema, "strict": False},
            }
        return request

    def _output_json_schema(self) -> dict[str, Any] | None:
        output = self.options.output_schema
        if output is None:
            return None
        if isinstance(output, dict):
            return output
        return output.model_json_schema()

    def on_response(self, response: ModelResponse) -> list[PreparedCall]:
        """Record the model's answer; return the tool calls to run (empty when the turn is over)."""
        self.step += 1
        self.usage.prompt_tokens += response.prompt_tokens
        self.usage.completion_tokens += response.completion_tokens
        self.finish_reason = _FINISH.get(response.finish_reason, "other")
        assistant: dict[str, Any] = {"role": "assistant", "content": response.text or None}
        if response.tool_calls:
            assistant["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in response.tool_calls
            ]
        self.messages.append(assistant)
        if response.text:
            self.text = response.text
        if not response.tool_calls:
            self._finish()
            return []
        prepared = [self._prepare(call) for call in response.tool_calls]
        for call in prepared:
            self.tool_calls.append({"toolCallId": call.id, "toolName": call.name, "input": call.input})
        return prepared

    def _finish(self) -> None:
        self.done = True
        output = self.options.output_schema
        if output is None:
            return
        try:
            data = json.loads(self.text)
            if isinstance(output, dict):
                jsonschema.validate(data, output)
                self.structured = data
            else:
                self.structured = output.model_validate(data).model_dump(mode="json")
        except (ValueError, ValidationError, jsonschema.ValidationError) as error:
            raise StructuredOutputInvalid(
                "The model's answer does not match the requested output schema.",
                details={"error": str(error)[:500]},
            ) from error

    def _prepare(self, call: ToolCallRequest) -> PreparedCall:
        prepared = PreparedCall(id=call.id, name=call.name, arguments=call.arguments)
        definition = self.tools.get(call.name)
        if definition is None:
            prepared.error = f"Tool {call.name!r} is not available to this agent; it was not run."
            return prepared
        prepared.definition = definition
        try:
            prepared.input = json.loads(call.arguments or "{}")
        except ValueError as error:
            prepared.error = (
                f"Arguments are not valid JSON ({error}). Send a JSON object matching the schema."
            )
            self._count_invalid()
            return prepared
        try:
            prepared.args = definition.input_model.model_validate(prepared.input)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in error.errors()
            )
            prepared.error = f"Invalid arguments: {problems}. Correct them and call the tool again."
            self._count_invalid()
        return prepared

    def _count_invalid(self) -> None:
        self.invalid_calls += 1
        if self.invalid_calls > MAX_INVALID_TOOL_CALLS:
            raise InvalidToolCalls(
                f"The model sent invalid tool arguments {self.invalid_calls} times; the run was stopped.",
                details={"limit": MAX_INVALID_TOOL_CALLS},
            )

    def prepare_again(self, call_id: str, name: str, arguments: str) -> PreparedCall:
        """A call of a stored step made ready to run again (a continuation in any process)."""
        return self._prepare(ToolCallRequest(id=call_id, name=name, arguments=arguments))

    def on_tool_results(self, outcomes: list[ToolOutcome]) -> None:
        for outcome in outcomes:
            self.messages.append({"role": "tool", "tool_call_id": outcome.id, "content": outcome.content()})
            self.tool_results.append(
                {
                    "toolCallId": outcome.id,
                    "toolName": outcome.name,
                    "output": outcome.output if outcome.error is None else {"error": outcome.error},
                    "isError": outcome.is_error,
                }
            )
        if self.step >= self.max_steps:
            self.done = True
            self.finish_reason = "tool-calls"


def options_state(options: RunOptions) -> dict[str, Any]:
    """The run options as JSON (a pydantic output model is kept as its JSON Schema)."""
    output = options.output_schema
    return {
        "max_steps": options.max_steps,
        "model": options.model,
        "tool_choice": options.tool_choice,
        "output_schema": output if output is None or isinstance(output, dict) else output.model_json_schema(),
        "require_tool_approval": options.require_tool_approval,
        "auto_resume_suspended_tools": options.auto_resume_suspended_tools,
    }


def options_from_state(data: dict[str, Any], *, run_id: str) -> RunOptions:
    return RunOptions(
        max_steps=data.get("max_steps"),
        model=data.get("model"),
        tool_choice=data.get("tool_choice"),
        output_schema=data.get("output_schema"),
        require_tool_approval=bool(data.get("require_tool_approval")),
        auto_resume_suspended_tools=data.get("auto_resume_suspended_tools"),
        run_id=run_id,
    )
