"""Reads, each filtered by the owner model (`core.access`): another owner's object is a 404.

Members see their own datasets and experiments and the tenant-wide ones (no owner, such as
those a fixture import or the gate created); tenant admins see every one of their tenant.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, QuerySet, Value, When
from django.db.models import Case as SqlCase

from agents import selectors as agent_selectors
from core.access import Actor, visible
from core.errors import NotFound
from evals.models import Case, CaseResult, Dataset, Experiment, LiveScore, LiveScoring, Score


def dataset_list(*, actor: Actor) -> QuerySet[Dataset]:
    return visible(Dataset.objects.all(), actor)


def dataset_get(*, actor: Actor, dataset_id: int) -> Dataset:
    dataset = dataset_list(actor=actor).filter(pk=dataset_id).first()
    if dataset is None:
        raise NotFound("Dataset not found.")
    return dataset


def dataset_get_by_name(*, actor: Actor, name: str) -> Dataset:
    """The dataset of that name the actor reads, its own first, then the tenant-wide one (for
    the scheduler and the CLI, whose actor has no user, the tenant-wide one), then, for a
    tenant admin, the oldest of another owner's: names are unique per owner only."""
    preference = SqlCase(
        When(owner_id=actor.user_id, then=Value(0)),
        When(owner__isnull=True, then=Value(1)),
        default=Value(2),
    )
    dataset = dataset_list(actor=actor).filter(name=name).order_by(preference, "pk").first()
    if dataset is None:
        raise NotFound(f"Dataset {name!r} not found.")
    return dataset


def case_list(*, actor: Actor, dataset_id: int) -> QuerySet[Case]:
    return dataset_get(actor=actor, dataset_id=dataset_id).cases.all()


def case_get(*, actor: Actor, dataset_id: int, case_id: int) -> Case:
    case = case_list(actor=actor, dataset_id=dataset_id).filter(pk=case_id).first()
    if case is None:
        raise NotFound("Case not found.")
    return case


def live_scoring_list(*, actor: Actor) -> QuerySet[LiveScoring]:
    """The live-scoring configurations the actor may read: its own and the tenant-wide ones (made
    in the Django admin); every one of its tenant for a tenant admin."""
    return visible(LiveScoring.objects.all(), actor).order_by("agent_slug")


def live_scoring_get(*, actor: Actor, config_id: int) -> LiveScoring:
    config = live_scoring_list(actor=actor).filter(pk=config_id).first()
    if config is None:
        raise NotFound("Live scoring not found.")
    return config


def experiment_list(*, actor: Actor) -> QuerySet[Experiment]:
    return visible(Experiment.objects.select_related("dataset"), actor)


def experiment_get(*, actor: Actor, experiment_id: int) -> Experiment:
    experiment = experiment_list(actor=actor).filter(pk=experiment_id).first()
    if experiment is None:
        raise NotFound("Experiment not found.")
    return experiment


def result_list(*, actor: Actor, experiment_id: int) -> QuerySet[CaseResult]:
    return experiment_get(actor=actor, experiment_id=experiment_id).results.prefetch_related("scores")


def scores_for_run(*, actor: Actor, run_id: uuid.UUID) -> QuerySet[Score]:
    """Scores of the results whose agent run is `run_id`, in experiments the actor may read."""
    experiments = experiment_list(actor=actor).values("pk")
    return Score.objects.filter(result__run_id=run_id, result__experiment__in=experiments).select_related(
        "result"
    )


def live_scores_for_run(*, actor: Actor, run_id: uuid.UUID) -> QuerySet[LiveScore]:
    """Live scores of a run the actor may read (its own, or its tenant's for a tenant admin); none otherwise."""
    try:
        agent_selectors.run_get(run_id=run_id, actor=actor)
    except NotFound:
        return LiveScore.objects.none()
    return LiveScore.objects.filter(run_id=run_id, tenant_id=actor.tenant_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class ScorerSummary:
    scorer: str
    count: int
    mean: float | None
    stdev: float | None
    pass_rate: float | None
    error_count: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ExperimentSummary:
    """Counts by status (errors apart from failures) and per-scorer mean, spread and pass rate."""

    total: int
    done: int
    counts: dict[str, int]
    scorers: list[ScorerSummary]

    @property
    def progress(self) -> float:
        return self.done / self.total if self.total else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "done": self.done,
            "progress": round(self.progress, 4),
            "counts": self.counts,
            "scorers": [asdict(s) for s in self.scorers],
        }


def experiment_summary(*, experiment: Experiment) -> ExperimentSummary:
    """Read-only figures of an experiment the caller already holds (see `experiment_get`)."""
    counts = {status: 0 for status in CaseResult.Status.values}
    for row in experiment.results.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    total = sum(counts.values())
    open_rows = counts[CaseResult.Status.PENDING] + counts[CaseResult.Status.RUNNING]
    values: dict[str, list[float]] = {}
    passed: dict[str, int] = {}
    errors: dict[str, int] = {}
    for scorer, value, ok, errored in Score.objects.filter(result__experiment=experiment).values_list(
        "scorer", "value", "passed", "errored"
    ):
        values.setdefault(scorer, [])
        passed.setdefault(scorer, 0)
        errors.setdefault(scorer, 0)
        if errored or value is None:
            errors[scorer] += 1
            continue
        values[scorer].append(value)
        passed[scorer] += int(ok)
    scorers = [
        ScorerSummary(
            scorer=name,
            count=len(vals),
            mean=round(statistics.fmean(vals), 4) if vals else None,
            stdev=round(statistics.pstdev(vals), 4) if vals else None,
            pass_rate=round(passed[name] / len(vals), 4) if vals else None,
            error_count=errors[name],
        )
        for name, vals in sorted(values.items())
    ]
    return ExperimentSummary(total=total, done=total - open_rows, counts=counts, scorers=scorers)


def case_draft_from_run(*, actor: Actor, run_id: uuid.UUID | str) -> dict[str, Any]:
    """A case prefilled from a stored run the actor may read: its input messages, request
    context, answer as the expected output, and its actual tool calls as the expected ones."""
    run = agent_selectors.run_get(run_id=run_id, actor=actor)
    result = run.result or {}
    calls = [
        {
            "name": c.get("toolName", ""),
            "arguments": c.get("input") if isinstance(c.get("input"), dict) else {},
        }
        for c in result.get("toolCalls") or []
    ]
    return {
        "name": f"run-{str(run.id)[:8]}",
        "input_messages": list((run.input or {}).get("messages") or []),
        "request_context": dict((run.input or {}).get("requestContext") or {}),
        "expected_output": str(result.get("text", "")),
        "expected_tools": list(dict.fromkeys(c["name"] for c in calls)),
        "expected_tool_calls": calls,
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class HistoryPoint:
    """One completed experiment of an agent, with the mean of each scorer (None: only errors)."""

    experiment_id: int
    agent_version: int
    dataset: str
    dataset_version: int
    created_at: datetime
    means: dict[str, float | None]


def scorer_history(
    *, actor: Actor, agent_slug: str, dataset_name: str | None = None, limit: int = 20
) -> list[HistoryPoint]:
    """The agent's last `limit` completed experiments the actor may read, oldest first, each
    with every scorer's mean (one query for the experiments, one for the means)."""
    experiments = experiment_list(actor=actor).filter(
        agent_slug=agent_slug, status=Experiment.Status.COMPLETED
    )
    if dataset_name:
        experiments = experiments.filter(dataset__name=dataset_name)
    chosen = list(experiments.order_by("-created_at", "-pk")[:limit])[::-1]
    means: dict[int, dict[str, float | None]] = {e.pk: {} for e in chosen}
    rows = (
        Score.objects.filter(result__experiment__in=[e.pk for e in chosen])
        .values("result__experiment_id", "scorer")
        .annotate(mean=Avg("value"))
    )
    for row in rows:
        mean = row["mean"]
        means[row["result__experiment_id"]][row["scorer"]] = round(mean, 4) if mean is not None else None
    return [
        HistoryPoint(
            experiment_id=e.pk,
            agent_version=e.agent_version or 0,
            dataset=e.dataset.name,
            dataset_version=e.dataset_version,
            created_at=e.created_at,
            means=means[e.pk],
        )
        for e in chosen
    ]


def experiment_agents(*, actor: Actor) -> list[str]:
    """The agents that have experiments the actor may read."""
    return sorted(set(experiment_list(actor=actor).values_list("agent_slug", flat=True)))


def experiment_tenants() -> list[tuple[int, str]]:
    """(id, slug) of every tenant with experiments, for the staff-only admin (not owner-scoped)."""
    rows = Experiment.objects.values_list("tenant_id", "tenant__slug").distinct().order_by("tenant__slug")
    return [(pk, slug) for pk, slug in rows]
