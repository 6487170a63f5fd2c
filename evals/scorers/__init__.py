"""Scorers behind one interface: `score(case, run) -> Score(value 0..1, passed, reason, details)`.

Built-in scorers register on import; custom ones with `@scorer` (see `registry`).
"""

from evals.scorers import deterministic, judged
from evals.scorers.registry import ScorerConfig, registry, scorer, scorer_config
from evals.scorers.types import CaseSpec, RunOutcome, Score, ScorerError, StepRecord, ToolCallRecord

__all__ = [
    "CaseSpec",
    "RunOutcome",
    "Score",
    "ScorerConfig",
    "ScorerError",
    "StepRecord",
    "ToolCallRecord",
    "deterministic",
    "judged",
    "registry",
    "scorer",
    "scorer_config",
]
