"""Validation of a case as a client or a fixture file sends it: strict types, known tools,
known scorers with valid options (a JSON-schema assertion must hold a valid schema)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from agents.tools.registry import registry as tool_registry
from core.errors import ValidationFailed
from evals.scorers import scorer_config


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    role: Literal["user", "assistant", "system"]
    content: str = Field(min_length=1)


def _known_tool(name: str) -> str:
    if tool_registry.get(name) is None:
        raise ValueError(f"Unknown tool {name!r}.")
    return name


class _ToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _tool_known(cls, value: str) -> str:
        return _known_tool(value)


class CaseInput(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(pattern=r"^[-a-zA-Z0-9_]{1,100}$")
    input_messages: list[_Message] = Field(min_length=1)
    request_context: dict[str, Any] = Field(default_factory=dict)
    expected_output: str = ""
    expected_tools: list[str] = Field(default_factory=list)
    forbidden_tools: list[str] = Field(default_factory=list)
    expected_tool_calls: list[_ToolCall] = Field(default_factory=list)
    reference_context: list[str] = Field(default_factory=list)
    assertions: list[dict[str, Any]] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)

    @field_validator("expected_tools", "forbidden_tools")
    @classmethod
    def _tools_known(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if tool_registry.get(name) is None]
        if unknown:
            raise ValueError(f"Unknown tool(s): {', '.join(map(repr, unknown))}.")
        return value


def _pydantic_details(error: PydanticValidationError) -> dict[str, Any]:
    details: dict[str, list[str]] = {}
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "non_field_errors"
        details.setdefault(field, []).append(str(item["msg"]).removeprefix("Value error, "))
    return details


def case_validate(data: Any, *, partial_of: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The case as stored (plain JSON types), or `ValidationFailed` with field errors.

    `partial_of`: the stored case a partial update applies to. A string `input` is
    accepted as shorthand for one user message.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed(
            "A case must be an object.", details={"non_field_errors": ["Expected an object."]}
        )
    raw = dict(data)
    if "input" in raw and "input_messages" not in raw and isinstance(raw["input"], str):
        raw["input_messages"] = [{"role": "user", "content": raw.pop("input")}]
    if partial_of is not None:
        raw = {**partial_of, **raw}
    try:
        case = CaseInput.model_validate(raw)
    except PydanticValidationError as error:
        raise ValidationFailed("The case is invalid.", details=_pydantic_details(error)) from error
    details: dict[str, Any] = {}
    for index, entry in enumerate(case.assertions):
        try:
            scorer_config(entry)
        except ValidationFailed as error:
            details.update(_entry_errors(f"assertions.{index}", error))
    if details:
        raise ValidationFailed("The case's assertions are invalid.", details=details)
    return case.model_dump()


def _entry_errors(path: str, error: ValidationFailed) -> dict[str, Any]:
    """A scorer entry's errors under its path: the refusal at the path itself, its fields below it."""
    return {path: [error.message], **{f"{path}.{key}": value for key, value in error.details.items()}}


def scorers_validate(entries: Any, *, field: str = "scorers") -> list[dict[str, Any]]:
    """A list of scorer entries, each validated (see `evals.scorers.scorer_config`)."""
    if not isinstance(entries, list):
        raise ValidationFailed("Scorers must be a list.", details={field: ["Expected a list."]})
    details: dict[str, Any] = {}
    keys: set[str] = set()
    for index, entry in enumerate(entries):
        try:
            config = scorer_config(entry)
        except ValidationFailed as error:
            details.update(_entry_errors(f"{field}.{index}", error))
            continue
        if config.key in keys:
            details[f"{field}.{index}"] = [f"Scorer {config.key!r} appears twice; give one a label."]
        keys.add(config.key)
    if details:
        raise ValidationFailed("Invalid scorers.", details=details)
    return list(entries)
