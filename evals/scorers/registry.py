"""The process-wide registry of scorers and the `@scorer` decorator, like the tools' registry.

    class MinLength(BaseModel):
        chars: int = 1

    @scorer("min_length", options=MinLength, description="The answer has at least `chars` characters.")
    def min_length(case: CaseSpec, run: RunOutcome, options: MinLength) -> Score:
        ok = len(run.text) >= options.chars
        return Score(value=1.0 if ok else 0.0, passed=ok, reason=f"{len(run.text)} characters")

An experiment or a case names a scorer with an entry `{"scorer": "min_length", "chars": 20}`;
the other keys are the scorer's options, validated by its pydantic model (unknown keys are
refused). `label` names the score when one scorer is used twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from core.errors import ValidationFailed
from evals.scorers.types import CaseSpec, RunOutcome, Score

O = TypeVar("O", bound=BaseModel)  # noqa: E741 - the options type
ScorerFunction = Callable[[CaseSpec, RunOutcome, Any], Score]


class NoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScorerDefinitionError(Exception):
    """A scorer is defined wrongly (a developer mistake, raised at import time)."""


@dataclass(frozen=True, kw_only=True)
class ScorerDefinition:
    name: str
    description: str
    options_model: type[BaseModel]
    function: ScorerFunction
    judged: bool = False


class ScorerRegistry:
    def __init__(self) -> None:
        self._scorers: dict[str, ScorerDefinition] = {}

    def register(self, definition: ScorerDefinition) -> None:
        existing = self._scorers.get(definition.name)
        if existing is not None and existing.function.__qualname__ != definition.function.__qualname__:
            raise ScorerDefinitionError(
                f"Scorer {definition.name!r} is already registered by another function."
            )
        self._scorers[definition.name] = definition

    def get(self, name: str) -> ScorerDefinition | None:
        return self._scorers.get(name)

    def all(self) -> list[ScorerDefinition]:
        return sorted(self._scorers.values(), key=lambda d: d.name)

    def unregister(self, name: str) -> None:
        self._scorers.pop(name, None)


registry = ScorerRegistry()


def scorer(
    name: str, *, options: type[BaseModel] = NoOptions, description: str = "", judged: bool = False
) -> Callable[[Callable[[CaseSpec, RunOutcome, O], Score]], Callable[[CaseSpec, RunOutcome, O], Score]]:
    """Register a function `(case, run, options) -> Score` as the scorer `name`."""

    def decorate(
        function: Callable[[CaseSpec, RunOutcome, O], Score],
    ) -> Callable[[CaseSpec, RunOutcome, O], Score]:
        if options.model_config.get("extra") != "forbid":
            raise ScorerDefinitionError(f"Scorer {name!r}: its options model must forbid extra keys.")
        registry.register(
            ScorerDefinition(
                name=name,
                description=description or (function.__doc__ or "").strip(),
                options_model=options,
                function=function,
                judged=judged,
            )
        )
        return function

    return decorate


@dataclass(frozen=True, kw_only=True)
class ScorerConfig:
    """A validated scorer entry: the score's key, the scorer and its options."""

    key: str
    definition: ScorerDefinition
    options: BaseModel

    def score(self, case: CaseSpec, run: RunOutcome) -> Score:
        """Raises `ScorerError` when the scorer cannot score."""
        return self.definition.function(case, run, self.options)


def scorer_config(entry: Mapping[str, Any]) -> ScorerConfig:
    """Validate one `{"scorer": name, ...options}` entry; field errors name the bad keys."""
    if not isinstance(entry, Mapping):
        raise ValidationFailed(
            "A scorer entry must be an object.", details={"scorer": ["Expected an object."]}
        )
    name = entry.get("scorer")
    definition = registry.get(name) if isinstance(name, str) else None
    if definition is None:
        known = ", ".join(d.name for d in registry.all())
        raise ValidationFailed(
            f"Unknown scorer {name!r}; known scorers: {known}.",
            details={"scorer": [f"Unknown scorer {name!r}."]},
        )
    label = entry.get("label", name)
    if not isinstance(label, str) or not label:
        raise ValidationFailed("A scorer's label must be text.", details={"label": ["Expected text."]})
    raw = {k: v for k, v in entry.items() if k not in {"scorer", "label"}}
    try:
        options = definition.options_model.model_validate(raw, strict=True)
    except PydanticValidationError as error:
        details: dict[str, list[str]] = {}
        for item in error.errors():
            field = ".".join(str(p) for p in item["loc"]) or "scorer"
            details.setdefault(field, []).append(item["msg"])
        raise ValidationFailed(f"Invalid options for scorer {name!r}.", details=details) from error
    return ScorerConfig(key=label, definition=definition, options=options)
