"""Two experiments side by side: per-scorer mean and spread in each, and the cases that
regressed or improved (their pass rate over repeats went down or up), with both runs and traces."""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass, field
from typing import Any

from core.access import Actor
from evals.models import CaseResult, Experiment
from evals.selectors import experiment_get, experiment_summary


@dataclass(frozen=True, kw_only=True, slots=True)
class ScorerDelta:
    scorer: str
    baseline_mean: float | None
    baseline_stdev: float | None
    candidate_mean: float | None
    candidate_stdev: float | None
    delta: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseChange:
    case_name: str
    baseline_pass_rate: float
    candidate_pass_rate: float
    baseline_scores: dict[str, float | None]
    candidate_scores: dict[str, float | None]
    baseline_runs: list[dict[str, str | None]] = field(default_factory=list)
    candidate_runs: list[dict[str, str | None]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    baseline_id: int
    candidate_id: int
    scorers: list[ScorerDelta]
    regressed: list[CaseChange]
    improved: list[CaseChange]
    unchanged: list[str]
    only_in_baseline: list[str]
    only_in_candidate: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True, slots=True)
class _CaseRows:
    passed: int = 0
    total: int = 0
    scores: dict[str, list[float]] = field(default_factory=dict)
    runs: list[dict[str, str | None]] = field(default_factory=list)

    def add(self, result: CaseResult) -> None:
        if result.status in {
            CaseResult.Status.PENDING,
            CaseResult.Status.RUNNING,
            CaseResult.Status.CANCELLED,
        }:
            return
        self.total += 1
        self.passed += int(result.status == CaseResult.Status.PASSED)
        self.runs.append(
            {
                "repeat": str(result.repeat),
                "run_id": str(result.run_id) if result.run_id else None,
                "trace_id": str(result.trace_id) if result.trace_id else None,
            }
        )
        for score in result.scores.all():
            if score.value is not None:
                self.scores.setdefault(score.scorer, []).append(score.value)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def means(self) -> dict[str, float | None]:
        return {name: round(statistics.fmean(v), 4) if v else None for name, v in sorted(self.scores.items())}


def _by_case(experiment: Experiment) -> dict[str, _CaseRows]:
    cases: dict[str, _CaseRows] = {}
    for result in experiment.results.prefetch_related("scores"):
        cases.setdefault(result.case_name, _CaseRows()).add(result)
    return cases


def experiment_compare(*, actor: Actor, baseline_id: int, candidate_id: int) -> Comparison:
    """Both experiments must be readable by the actor (else a 404, as for one)."""
    baseline = experiment_get(actor=actor, experiment_id=baseline_id)
    candidate = experiment_get(actor=actor, experiment_id=candidate_id)
    before = {s.scorer: s for s in experiment_summary(experiment=baseline).scorers}
    after = {s.scorer: s for s in experiment_summary(experiment=candidate).scorers}
    scorers = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        b_mean, a_mean = (b.mean if b else None), (a.mean if a else None)
        scorers.append(
            ScorerDelta(
                scorer=name,
                baseline_mean=b_mean,
                baseline_stdev=b.stdev if b else None,
                candidate_mean=a_mean,
                candidate_stdev=a.stdev if a else None,
                delta=round(a_mean - b_mean, 4) if a_mean is not None and b_mean is not None else None,
            )
        )
    old, new = _by_case(baseline), _by_case(candidate)
    regressed, improved, unchanged = [], [], []
    for name in sorted(set(old) & set(new)):
        b_rows, a_rows = old[name], new[name]
        change = CaseChange(
            case_name=name,
            baseline_pass_rate=round(b_rows.pass_rate, 4),
            candidate_pass_rate=round(a_rows.pass_rate, 4),
            baseline_scores=b_rows.means(),
            candidate_scores=a_rows.means(),
            baseline_runs=b_rows.runs,
            candidate_runs=a_rows.runs,
        )
        if a_rows.pass_rate < b_rows.pass_rate:
            regressed.append(change)
        elif a_rows.pass_rate > b_rows.pass_rate:
            improved.append(change)
        else:
            unchanged.append(name)
    return Comparison(
        baseline_id=baseline.pk,
        candidate_id=candidate.pk,
        scorers=scorers,
        regressed=regressed,
        improved=improved,
        unchanged=unchanged,
        only_in_baseline=sorted(set(old) - set(new)),
        only_in_candidate=sorted(set(new) - set(old)),
    )
