"""The `@tool` decorator and the process-wide registry of code-defined tools."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_type_hints

from pydantic import BaseModel

from agents.tools.context import ToolContext
from core.context import RequestContext

SideEffect = Literal["none", "read", "write", "external"]
_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)
ToolFunction = Callable[[ToolContext, Any], Any] | Callable[[ToolContext, Any], Awaitable[Any]]
# `needs_approval` as a function of the validated arguments and the request context
# ("approve payments over 100"); True: every call; False: none.
ApprovalRule = bool | Callable[[Any, RequestContext], bool]


class ToolDefinitionError(Exception):
    """A tool is defined wrongly (a developer mistake, raised at import time)."""


class ToolInputError(ValueError):
    """Raised by a tool that refuses input its schema allowed (an unknown timezone, an impossible pair).

    The caller's mistake, not the tool's: the model gets the message as the tool result
    and may correct itself; `POST /api/tools/{id}/execute` answers 400 naming `field`.
    Any other exception a tool raises is a tool failure (a 502 `tool_failed` there).
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True, kw_only=True)
class ToolDefinition:
    id: str
    description: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    function: ToolFunction
    side_effect: SideEffect = "none"
    label: str = ""
    needs_approval: ApprovalRule = False
    timeout_s: float = 30.0
    suspend_schema: type[BaseModel] | None = None
    resume_schema: type[BaseModel] | None = None
    is_async: bool = False
    ambient: bool = False  # offered to every agent unless it excludes or shadows it
    input_schema: dict[str, Any] = field(default_factory=dict)
    output_schema: dict[str, Any] = field(default_factory=dict)

    @property
    def may_need_approval(self) -> bool:
        """Whether some calls need approval (what the admin shows: a rule counts as yes)."""
        return self.needs_approval is not False

    def approval_needed(self, args: Any, context: RequestContext) -> bool:
        """Whether this call waits for a person: the rule applied to the validated arguments.

        A rule that raises counts as "needs approval" (never run unapproved by mistake).
        """
        rule = self.needs_approval
        if not callable(rule):
            return bool(rule)
        try:
            return bool(rule(args, context))
        except Exception:
            return True

    def openai_spec(self, name: str | None = None) -> dict[str, Any]:
        """The tool as the chat completions API expects it, offered as `name` (default: its id)."""
        return {
            "type": "function",
            "function": {
                "name": name or self.id,
                "description": self.description,
                "parameters": self.input_schema,
            },
        }


class ToolRegistry:
    def __init__(self) -> None:
        self._tools: dict[str, ToolDefinition] = {}

    def register(self, definition: ToolDefinition) -> None:
        existing = self._tools.get(definition.id)
        if existing is not None and existing.function is not definition.function:
            same_place = getattr(existing.function, "__qualname__", None) == getattr(
                definition.function, "__qualname__", None
            ) and getattr(existing.function, "__module__", None) == getattr(
                definition.function, "__module__", None
            )
            if not same_place:
                raise ToolDefinitionError(
                    f"Tool id {definition.id!r} is already registered by another function."
                )
        self._tools[definition.id] = definition

    def get(self, tool_id: str) -> ToolDefinition | None:
        return self._tools.get(tool_id)

    def all(self) -> list[ToolDefinition]:
        return sorted(self._tools.values(), key=lambda t: t.id)

    def unregister(self, tool_id: str) -> None:
        self._tools.pop(tool_id, None)


registry = ToolRegistry()


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    schema = model.model_json_schema()
    schema.pop("title", None)
    return schema


def tool(
    *,
    id: str,
    description: str,
    side_effect: SideEffect = "none",
    label: str = "",
    needs_approval: ApprovalRule = False,
    timeout_s: float = 30.0,
    suspend_schema: type[BaseModel] | None = None,
    resume_schema: type[BaseModel] | None = None,
    ambient: bool = False,
) -> Callable[[Callable[..., Any]], ToolDefinition]:
    """Register `function(ctx, args) -> output` as a tool; input/output types come from its annotations.

    An `ambient` tool is offered to every agent that neither excludes nor shadows it
    (`agents.tools.toolkits`).
    """
    if not _ID.match(id):
        raise ToolDefinitionError(f"Tool id {id!r} must match {_ID.pattern} (the model API's rule).")
    if side_effect not in ("none", "read", "write", "external"):
        raise ToolDefinitionError(f"Tool {id!r}: side_effect must be none, read, write or external.")
    if timeout_s <= 0:
        raise ToolDefinitionError(f"Tool {id!r}: timeout_s must be positive.")

    def decorate(function: Any) -> ToolDefinition:
        hints = get_type_hints(function)
        params = list(inspect.signature(function).parameters)
        if len(params) != 2:
            raise ToolDefinitionError(f"Tool {id!r} must take (ctx: ToolContext, args: <pydantic model>).")
        input_model = hints.get(params[1])
        output_model = hints.get("return")
        for what, model in (("input", input_model), ("output", output_model)):
            if not (isinstance(model, type) and issubclass(model, BaseModel)):
                raise ToolDefinitionError(f"Tool {id!r}: the {what} annotation must be a pydantic model.")
        assert input_model is not None  # noqa: S101 - narrowed above
        assert output_model is not None  # noqa: S101
        definition = ToolDefinition(
            id=id,
            description=description,
            input_model=input_model,
            output_model=output_model,
            function=function,
            side_effect=side_effect,
            label=label,
            needs_approval=needs_approval,
            timeout_s=timeout_s,
            suspend_schema=suspend_schema,
            resume_schema=resume_schema,
            is_async=inspect.iscoroutinefunction(function),
            ambient=ambient,
            input_schema=_schema(input_model),
            output_schema=_schema(output_model),
        )
        registry.register(definition)
        return definition

    return decorate
