"""The CI gate's verdict on a finished experiment: scorer means against thresholds, a
readable report and JUnit XML. Pure functions over what the selectors return."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from evals.models import CaseResult, Experiment
from evals.selectors import ExperimentSummary


@dataclass(frozen=True, kw_only=True, slots=True)
class ScorerVerdict:
    scorer: str
    mean: float | None
    threshold: float
    errors: int
    passed: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class GateReport:
    passed: bool
    verdicts: list[ScorerVerdict]
    errored: int
    text: str


def gate_evaluate(
    *,
    experiment: Experiment,
    summary: ExperimentSummary,
    results: list[CaseResult],
    thresholds: dict[str, float],
    default_threshold: float,
    allow_errors: bool = False,
) -> GateReport:
    """Every scorer's mean must reach its threshold (`default_threshold` when none is given);
    an errored case fails the gate unless `allow_errors`. A threshold for a scorer the
    experiment never produced fails too, so a typo cannot pass silently."""
    verdicts = []
    seen = {s.scorer for s in summary.scorers}
    for item in summary.scorers:
        threshold = thresholds.get(item.scorer, default_threshold)
        ok = item.mean is not None and item.mean >= threshold
        verdicts.append(
            ScorerVerdict(
                scorer=item.scorer, mean=item.mean, threshold=threshold, errors=item.error_count, passed=ok
            )
        )
    for name in sorted(set(thresholds) - seen):
        verdicts.append(
            ScorerVerdict(scorer=name, mean=None, threshold=thresholds[name], errors=0, passed=False)
        )
    errored = summary.counts[CaseResult.Status.ERRORED]
    passed = all(v.passed for v in verdicts) and (allow_errors or errored == 0)
    return GateReport(
        passed=passed,
        verdicts=verdicts,
        errored=errored,
        text=_report(experiment, summary, results, verdicts, passed),
    )


def _report(
    experiment: Experiment,
    summary: ExperimentSummary,
    results: list[CaseResult],
    verdicts: list[ScorerVerdict],
    passed: bool,
) -> str:
    counts = summary.counts
    lines = [
        f"Eval gate: dataset {experiment.dataset.name} v{experiment.dataset_version} against "
        f"{'' if experiment.workflow_id else 'agent '}{experiment.target_label} (experiment {experiment.pk})",
        f"  cases: {summary.total}  passed: {counts['passed']}  failed: {counts['failed']}  "
        f"errored: {counts['errored']}",
        "",
        f"  {'scorer':<24} {'mean':>6} {'threshold':>9}  verdict",
    ]
    for v in verdicts:
        mean = "-" if v.mean is None else f"{v.mean:.3f}"
        note = f" ({v.errors} scorer errors)" if v.errors else ("" if v.mean is not None else " (no scores)")
        lines.append(f"  {v.scorer:<24} {mean:>6} {v.threshold:>9.3f}  {'ok' if v.passed else 'BELOW'}{note}")
    problems = [r for r in results if r.status in {CaseResult.Status.FAILED, CaseResult.Status.ERRORED}]
    if problems:
        lines += ["", "  cases that did not pass:"]
    for result in problems:
        lines.append(f"  - {result.case_name}#{result.repeat} {result.status}")
        if result.error:
            lines.append(f"      error: {result.error.get('message', '')}")
        for score in result.scores.all():
            if not score.passed:
                lines.append(f"      {score.scorer}: {score.reason}")
    lines += ["", "PASSED" if passed else "FAILED"]
    return "\n".join(lines)


def junit_xml(*, experiment: Experiment, results: list[CaseResult]) -> str:
    """One test case per case x repeat; a failure per score that did not pass, an error for a
    run or scorer that errored."""
    failures = sum(1 for r in results if r.status == CaseResult.Status.FAILED)
    errors = sum(1 for r in results if r.status == CaseResult.Status.ERRORED)
    suite = ET.Element(
        "testsuite",
        name=f"evals.{experiment.dataset.name}",
        tests=str(len(results)),
        failures=str(failures),
        errors=str(errors),
    )
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"evals.{experiment.dataset.name}",
            name=f"{result.case_name}#{result.repeat}",
        )
        if result.error:
            ET.SubElement(
                case,
                "error",
                message=str(result.error.get("message", "")),
                type=str(result.error.get("code")),
            )
        for score in result.scores.all():
            if score.errored:
                ET.SubElement(case, "error", message=f"{score.scorer}: {score.reason}", type="scorer_error")
            elif not score.passed:
                ET.SubElement(case, "failure", message=f"{score.scorer}: {score.reason}", type=score.scorer)
        if result.status == CaseResult.Status.CANCELLED:
            ET.SubElement(case, "skipped", message="cancelled")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=True) + "\n"
