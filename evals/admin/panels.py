"""What evals adds to the agents' run pages and the trace pages: the run's scores (from
experiments and live scoring) and a one-click "new eval case" from that run."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents.admin.runs import run_section_add
from core.access import Actor
from evals import selectors
from evals.admin.links import new_case_url
from observability.admin import trace_section_add

if TYPE_CHECKING:  # the pages' objects, only for their types: evals reads no other app's models
    from agents.models import Run
    from observability.models import Trace


def _verdict(value: float | None, passed: bool, errored: bool) -> str:
    if errored or value is None:
        return "scorer error"
    return f"{value:.3f} {'passed' if passed else 'failed'}"


def run_evals_section(*, tenant_id: int, run_id: uuid.UUID) -> SafeString:
    """The scores of one run, each with where it came from, and the "new eval case" link."""
    actor = Actor.system(tenant_id=tenant_id)
    rows: list[tuple[str, str, str, str, str]] = []
    for score in selectors.scores_for_run(actor=actor, run_id=run_id):
        url = reverse("admin:evals_caseresult_change", args=[score.result_id])
        origin = f"experiment {score.result.experiment_id}, {score.result.case_name}#{score.result.repeat}"
        rows.append(
            (url, origin, score.scorer, _verdict(score.value, score.passed, score.errored), score.reason)
        )
    for live in selectors.live_scores_for_run(actor=actor, run_id=run_id):
        url = reverse("admin:evals_livescore_change", args=[live.pk])
        rows.append(
            (url, "live scoring", live.scorer, _verdict(live.value, live.passed, live.errored), live.reason)
        )
    link = format_html('<p><a href="{}">New eval case from this run</a></p>', new_case_url(run_id))
    if not rows:
        return format_html("<p>No scores for this run.</p>{}", link)
    body = format_html_join(
        "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>', rows
    )
    return format_html(
        "<table><tr><th>Scored by</th><th>Scorer</th><th>Score</th><th>Reason</th></tr>{}</table>{}",
        body,
        link,
    )


def _run_section(run: Run) -> SafeString:
    return run_evals_section(tenant_id=run.tenant_id, run_id=run.id)


def _trace_section(trace: Trace) -> SafeString | str:
    run_id = (trace.attributes or {}).get("run_id")
    if trace.tenant_id is None or not run_id:
        return ""
    try:
        parsed = uuid.UUID(str(run_id))
    except ValueError:
        return ""
    return run_evals_section(tenant_id=trace.tenant_id, run_id=parsed)


run_section_add(_run_section)
trace_section_add(_trace_section)
