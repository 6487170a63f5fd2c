"""Deterministic scorers, the registry and the validation of scorer entries."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict

from core.errors import ValidationFailed
from evals.scorers import CaseSpec, RunOutcome, Score, ToolCallRecord, registry, scorer, scorer_config
from evals.scorers.registry import ScorerDefinitionError

CASE = CaseSpec(
    name="c",
    input_messages=[{"role": "user", "content": "Time in Tokyo?"}],
    expected_output="Paris",
    expected_tools=["current_time"],
    forbidden_tools=["eval_send_email"],
    expected_tool_calls=[
        {"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}},
        {"name": "convert_units", "arguments": {"value": 1}},
    ],
)


def run(text: str = "", calls: list[ToolCallRecord] | None = None, **extra) -> RunOutcome:
    return RunOutcome(status="completed", text=text, tool_calls=calls or [], **extra)


def score(entry: dict, outcome: RunOutcome, case: CaseSpec = CASE) -> Score:
    return scorer_config(entry).score(case, outcome)


TOKYO = ToolCallRecord(name="current_time", arguments={"timezone": "Asia/Tokyo", "extra": 1})
CONVERT = ToolCallRecord(name="convert_units", arguments={"value": 1, "unit": "km"})
EMAIL = ToolCallRecord(name="eval_send_email", arguments={"to": "a@b"}, side_effect="external")


def test_text_scorers():
    assert score({"scorer": "exact"}, run(" Paris ")).passed
    assert not score({"scorer": "exact"}, run("paris")).passed
    assert score({"scorer": "exact", "ignore_case": True}, run("paris")).value == 1.0
    assert score({"scorer": "contains"}, run("It is paris.")).passed
    missing = score({"scorer": "contains", "text": "Lyon"}, run("It is Paris."))
    assert (missing.value, missing.passed, missing.reason) == (
        0.0,
        False,
        "The answer does not contain 'lyon'.",
    )
    matched = score({"scorer": "regex", "pattern": r"\d{2}:\d{2}"}, run("It is 09:30."))
    assert matched.passed
    assert matched.details["match"] == "09:30"
    assert not score({"scorer": "regex", "pattern": r"^\d+$"}, run("ten")).passed


def test_json_schema_scorer_reads_structured_output_or_the_answer():
    entry = {"scorer": "json_schema", "schema": {"type": "object", "required": ["city"]}}
    assert score(entry, run('{"city": "Paris"}')).passed
    bad = score(entry, run('{"town": "Paris"}'))
    assert not bad.passed
    assert "'city' is a required property" in bad.reason
    assert score(entry, run("not json")).reason == "The answer is not JSON."
    assert score(entry, run("ignored", object={"city": "Oslo"})).passed


def test_tool_call_accuracy_names_order_and_arguments():
    both = score({"scorer": "tool_calls"}, run(calls=[TOKYO, CONVERT]))
    assert (both.value, both.passed) == (1.0, True)
    reversed_order = score({"scorer": "tool_calls"}, run(calls=[CONVERT, TOKYO]))
    assert (reversed_order.value, reversed_order.passed) == (0.5, False)
    assert "convert_units" in reversed_order.reason
    assert score({"scorer": "tool_calls", "ordered": False}, run(calls=[CONVERT, TOKYO])).passed
    wrong_args = ToolCallRecord(name="current_time", arguments={"timezone": "Europe/Paris"})
    assert score({"scorer": "tool_calls"}, run(calls=[wrong_args, CONVERT])).value == 0.5
    assert not score({"scorer": "tool_calls", "arguments": "exact"}, run(calls=[TOKYO, CONVERT])).passed
    assert score({"scorer": "tool_calls", "arguments": "ignore"}, run(calls=[wrong_args, CONVERT])).passed


def test_required_and_forbidden_tools():
    assert score({"scorer": "required_tools"}, run(calls=[TOKYO])).passed
    assert score({"scorer": "required_tools"}, run()).reason == "Not called: current_time."
    forbidden = score({"scorer": "forbidden_tools"}, run(calls=[TOKYO, EMAIL]))
    assert not forbidden.passed
    assert forbidden.details["called"] == ["eval_send_email"]
    assert not score({"scorer": "forbidden_tools", "tools": ["current_time"]}, run(calls=[TOKYO])).passed


def test_budgets():
    assert score({"scorer": "latency", "max_ms": 100}, run(latency_ms=99.0)).passed
    assert not score({"scorer": "latency", "max_ms": 100}, run(latency_ms=101.0)).passed
    over = score({"scorer": "tokens", "max_total": 10}, run(prompt_tokens=8, completion_tokens=3))
    assert not over.passed
    assert over.reason == "11 tokens against a budget of 10."


def test_no_side_effect_counts_only_executed_calls():
    assert not score({"scorer": "no_side_effect"}, run(calls=[TOKYO, EMAIL])).passed
    refused = ToolCallRecord(name="eval_send_email", arguments={}, side_effect="external", is_error=True)
    assert score({"scorer": "no_side_effect"}, run(calls=[TOKYO, refused])).passed
    assert not score(
        {"scorer": "no_side_effect", "effects": ["read", "write", "external"]},
        run(calls=[ToolCallRecord(name="x", arguments={}, side_effect="read")]),
    ).passed


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ({"scorer": "nope"}, "scorer"),
        ({"scorer": "regex"}, "pattern"),
        ({"scorer": "regex", "pattern": "("}, "pattern"),
        ({"scorer": "latency", "max_ms": "100"}, "max_ms"),
        ({"scorer": "contains", "txt": "x"}, "txt"),
        ({"scorer": "rubric"}, "criteria"),
    ],
)
def test_bad_scorer_entries_name_the_field(entry, field):
    with pytest.raises(ValidationFailed) as caught:
        scorer_config(entry)
    assert field in caught.value.details


class MinLength(BaseModel):
    model_config = ConfigDict(extra="forbid")
    chars: int = 1


def test_custom_scorers_register_with_a_decorator():
    @scorer("test_min_length", options=MinLength)
    def min_length(case: CaseSpec, outcome: RunOutcome, options: MinLength) -> Score:
        ok = len(outcome.text) >= options.chars
        return Score(value=1.0 if ok else 0.0, passed=ok, reason=f"{len(outcome.text)} characters")

    try:
        assert score({"scorer": "test_min_length", "chars": 3, "label": "long"}, run("abcd")).passed
        assert scorer_config({"scorer": "test_min_length", "label": "long"}).key == "long"
        with pytest.raises(ValidationFailed):
            scorer_config({"scorer": "test_min_length", "chars": "3"})
    finally:
        registry.unregister("test_min_length")


def test_a_scorer_whose_options_accept_anything_is_a_definition_error():
    class Loose(BaseModel):
        x: int = 0

    with pytest.raises(ScorerDefinitionError):
        scorer("test_loose", options=Loose)(lambda case, outcome, options: Score(value=1.0, passed=True))


def test_a_score_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match=r"0\.\.1"):
        Score(value=1.5, passed=True)
