"""Deterministic scorers: text, structure, tool use, budgets and side effects."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, field_validator

from evals.scorers.registry import NoOptions, scorer
from evals.scorers.types import CaseSpec, RunOutcome, Score


class _Options(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _binary(ok: bool, reason: str, **details: Any) -> Score:
    return Score(value=1.0 if ok else 0.0, passed=ok, reason=reason, details=details)


class ExactOptions(_Options):
    expected: str | None = None  # default: the case's expected output
    ignore_case: bool = False


@scorer("exact", options=ExactOptions, description="The answer equals the expected output (trimmed).")
def exact(case: CaseSpec, run: RunOutcome, options: ExactOptions) -> Score:
    expected = (options.expected if options.expected is not None else case.expected_output).strip()
    answer = run.text.strip()
    if options.ignore_case:
        expected, answer = expected.lower(), answer.lower()
    ok = answer == expected
    return _binary(
        ok, "The answer equals the expected output." if ok else "The answer differs from the expected output."
    )


class ContainsOptions(_Options):
    text: str | None = None  # default: the case's expected output
    ignore_case: bool = True


@scorer(
    "contains",
    options=ContainsOptions,
    description="The answer contains a text (default: the expected output).",
)
def contains(case: CaseSpec, run: RunOutcome, options: ContainsOptions) -> Score:
    needle = options.text if options.text is not None else case.expected_output
    haystack = run.text
    if options.ignore_case:
        needle, haystack = needle.lower(), haystack.lower()
    ok = bool(needle) and needle in haystack
    return _binary(ok, f"The answer {'contains' if ok else 'does not contain'} {needle!r}.")


class RegexOptions(_Options):
    pattern: str
    ignore_case: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"Not a regular expression: {error}") from error
        return value


@scorer("regex", options=RegexOptions, description="The answer matches a regular expression.")
def regex(case: CaseSpec, run: RunOutcome, options: RegexOptions) -> Score:
    match = re.search(options.pattern, run.text, flags=re.IGNORECASE if options.ignore_case else 0)
    return _binary(
        match is not None,
        f"The answer {'matches' if match else 'does not match'} /{options.pattern}/.",
        match=match.group(0) if match else None,
    )


class JsonSchemaOptions(_Options):
    json_schema: dict[str, Any] = Field(alias="schema")

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as error:
            raise ValueError(f"Not a valid JSON Schema: {error.message}") from error
        return value


@scorer(
    "json_schema",
    options=JsonSchemaOptions,
    description="The structured output (or the answer parsed as JSON) is valid against a JSON Schema.",
)
def json_schema(case: CaseSpec, run: RunOutcome, options: JsonSchemaOptions) -> Score:
    document = run.object
    if document is None:
        try:
            document = json.loads(run.text)
        except ValueError:
            return _binary(False, "The answer is not JSON.")
    errors = sorted(
        Draft202012Validator(options.json_schema).iter_errors(document), key=lambda e: list(e.path)
    )
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.path) or "(root)"
        return _binary(False, f"Invalid at {where}: {first.message}", errors=[e.message for e in errors[:10]])
    return _binary(True, "The answer is valid against the schema.")


class ToolCallOptions(_Options):
    ordered: bool = True
    arguments: Literal["subset", "exact", "ignore"] = "subset"


def _arguments_match(expected: dict[str, Any], actual: dict[str, Any], mode: str) -> bool:
    if mode == "ignore":
        return True
    if mode == "exact":
        return expected == actual
    return all(key in actual and actual[key] == value for key, value in expected.items())


@scorer(
    "tool_calls",
    options=ToolCallOptions,
    description="The run called the case's expected tool calls: names, order and arguments.",
)
def tool_calls(case: CaseSpec, run: RunOutcome, options: ToolCallOptions) -> Score:
    expected = case.expected_tool_calls
    actual = run.tool_calls
    if not expected:
        ok = not actual
        return _binary(ok, "No tool call expected" + ("." if ok else f", but {len(actual)} were made."))
    matched: list[dict[str, Any]] = []
    start = 0
    used: set[int] = set()
    for call in expected:
        args = call.get("arguments") or {}
        candidates = range(start, len(actual)) if options.ordered else range(len(actual))
        index = next(
            (
                i
                for i in candidates
                if i not in used
                and actual[i].name == call["name"]
                and _arguments_match(args, actual[i].arguments, options.arguments)
            ),
            None,
        )
        matched.append({"name": call["name"], "matched": index is not None, "at": index})
        if index is not None:
            used.add(index)
            start = index + 1
    hits = sum(1 for m in matched if m["matched"])
    value = hits / len(expected)
    missing = [m["name"] for m in matched if not m["matched"]]
    reason = (
        f"All {len(expected)} expected tool calls were made."
        if not missing
        else f"{hits} of {len(expected)} expected tool calls were made; missing or different: {', '.join(missing)}."
    )
    return Score(
        value=value,
        passed=not missing,
        reason=reason,
        details={"expected": expected, "actual": [c.name for c in actual], "matches": matched},
    )


@scorer(
    "required_tools", options=NoOptions, description="The run called every tool in the case's expected tools."
)
def required_tools(case: CaseSpec, run: RunOutcome, options: NoOptions) -> Score:
    called = {c.name for c in run.tool_calls}
    missing = [t for t in case.expected_tools if t not in called]
    if not case.expected_tools:
        return _binary(True, "No tool is required.")
    value = 1 - len(missing) / len(case.expected_tools)
    reason = "Every required tool was called." if not missing else f"Not called: {', '.join(missing)}."
    return Score(value=value, passed=not missing, reason=reason, details={"missing": missing})


class ForbiddenOptions(_Options):
    tools: list[str] = Field(default_factory=list)  # added to the case's forbidden tools


@scorer(
    "forbidden_tools",
    options=ForbiddenOptions,
    description="The run called none of the case's forbidden tools.",
)
def forbidden_tools(case: CaseSpec, run: RunOutcome, options: ForbiddenOptions) -> Score:
    forbidden = set(case.forbidden_tools) | set(options.tools)
    called = sorted({c.name for c in run.tool_calls} & forbidden)
    ok = not called
    return _binary(
        ok,
        "No forbidden tool was called." if ok else f"Forbidden tools called: {', '.join(called)}.",
        called=called,
    )


class LatencyOptions(_Options):
    max_ms: float = Field(gt=0)


@scorer("latency", options=LatencyOptions, description="The run finished within a latency budget.")
def latency(case: CaseSpec, run: RunOutcome, options: LatencyOptions) -> Score:
    ok = run.latency_ms <= options.max_ms
    return _binary(
        ok, f"{run.latency_ms:.0f} ms against a budget of {options.max_ms:.0f} ms.", latency_ms=run.latency_ms
    )


class TokenOptions(_Options):
    max_total: int = Field(gt=0)


@scorer(
    "tokens",
    options=TokenOptions,
    description="The run used at most a number of tokens (prompt and completion).",
)
def tokens(case: CaseSpec, run: RunOutcome, options: TokenOptions) -> Score:
    ok = run.total_tokens <= options.max_total
    return _binary(
        ok, f"{run.total_tokens} tokens against a budget of {options.max_total}.", tokens=run.total_tokens
    )


Effect = Literal["read", "write", "external"]


def _write_and_external() -> list[Effect]:
    return ["write", "external"]


class SideEffectOptions(_Options):
    effects: list[Effect] = Field(default_factory=_write_and_external)


@scorer(
    "no_side_effect",
    options=SideEffectOptions,
    description="No tool with a write or external side effect ran to completion (drafting or escalating instead).",
)
def no_side_effect(case: CaseSpec, run: RunOutcome, options: SideEffectOptions) -> Score:
    executed = [c.name for c in run.tool_calls if c.side_effect in options.effects and not c.is_error]
    ok = not executed
    reason = "No side effect was executed." if ok else f"Side effects executed by: {', '.join(executed)}."
    return _binary(ok, reason, executed=executed)


class TrajectoryOptions(_Options):
    expected: list[str] = Field(min_length=1)
    exact: bool = False  # True: nothing but the expected, in order


@scorer(
    "trajectory",
    options=TrajectoryOptions,
    description="The run went through the expected steps in order: a workflow run's completed steps "
    "(step ids, journal order), an agent run's tool calls.",
)
def trajectory(case: CaseSpec, run: RunOutcome, options: TrajectoryOptions) -> Score:
    if run.workflow_run_id:
        actual = [s.step_id for s in run.steps if s.status == "success"]
    else:
        actual = [c.name for c in run.tool_calls]
    position, hits = 0, 0
    for name in options.expected:
        try:
            position = actual.index(name, position) + 1
        except ValueError:
            continue
        hits += 1
    ok = actual == options.expected if options.exact else hits == len(options.expected)
    value = (
        hits / len(options.expected) if not options.exact or ok else min(hits / len(options.expected), 0.99)
    )
    reason = (
        f"The run went through {' > '.join(options.expected)}."
        if ok
        else f"Expected {' > '.join(options.expected)}; the run went through {' > '.join(actual) or 'nothing'}."
    )
    return Score(value=1.0 if ok else value, passed=ok, reason=reason, details={"actual": actual})
