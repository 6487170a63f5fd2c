"""Experiments: start, claim and run one case x repeat at a time, score, finish, cancel, sweep.

Each case x repeat is a `CaseResult` row created when the experiment starts (unique per
experiment, case and repeat, so a case can never be counted twice). A worker task claims
the next pending row under a lock on the experiment row, which also holds the concurrency
limit: at most `concurrency` rows are `running` with a live claim. A claim is a random id
and a time; a row whose claim is older than `EVALS_CASE_LEASE_S` belongs to a dead worker
and may be claimed again. A finished run is written only by the attempt that still holds
the claim, so a late finisher whose row was taken over changes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from agents import selectors as agent_selectors
from agents.runtime import RunOptions, generate
from agents.runtime.types import RunResult
from agents.tools.registry import registry as tool_registry
from core.access import Actor, owned
from core.context import RequestContext
from core.errors import NotFound, PlatformError, ValidationFailed
from core.models import Tenant
from evals.models import CaseResult, Experiment, Score
from evals.scorers import CaseSpec, RunOutcome, ScorerConfig, ScorerError, ToolCallRecord, scorer_config
from evals.selectors import dataset_get, dataset_get_by_name
from evals.validation import scorers_validate

logger = logging.getLogger(__name__)

MAX_REPEATS = 20
MAX_CONCURRENCY = 64
MAX_ATTEMPTS = 3  # claims of one case before it is recorded as errored
Enqueue = Callable[[int], None]


def _now() -> datetime:
    return datetime.now(UTC)


@transaction.atomic
def experiment_start(
    *,
    actor: Actor,
    dataset_id: int,
    agent_id: str,
    scorers: list[dict[str, Any]],
    repeats: int = 1,
    concurrency: int = 4,
    exclude_tags: list[str] | None = None,
    agent_version: int | None = None,
    enqueue: Enqueue | None = None,
) -> Experiment:
    """Freeze the dataset's cases into result rows and queue `concurrency` workers' first claims.

    Every case runs the agent's stored version `agent_version` (default: its current version
    when the experiment starts), so a change to the agent while it runs does not mix versions.
    `enqueue(experiment_id)` queues one claim (a Celery task by default); it runs after commit.
    Cases carrying any of `exclude_tags` are left out.
    """
    dataset = dataset_get(actor=actor, dataset_id=dataset_id)
    agent = agent_selectors.agent_get(slug=agent_id, tenant_id=actor.tenant_id)
    if agent_version is None:
        agent_version = agent.version
    elif isinstance(agent_version, bool) or not isinstance(agent_version, int) or agent_version < 1:
        raise ValidationFailed(
            "agent_version must be a positive version number.",
            details={"agent_version": ["A positive integer."]},
        )
    else:
        try:
            agent_selectors.agent_version_get(agent=agent, number=agent_version)
        except NotFound as error:
            raise ValidationFailed(error.message, details=error.details) from error
    scorers_validate(scorers)
    if not 1 <= repeats <= MAX_REPEATS:
        raise ValidationFailed(f"repeats must be 1 to {MAX_REPEATS}.", details={"repeats": ["Out of range."]})
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ValidationFailed(
            f"concurrency must be 1 to {MAX_CONCURRENCY}.", details={"concurrency": ["Out of range."]}
        )
    excluded = set(exclude_tags or [])
    cases = [c for c in dataset.cases.all() if not excluded & set(c.tags)]
    if not cases:
        raise ValidationFailed("The dataset has no cases to run.", details={"dataset": ["No cases."]})
    experiment = Experiment.objects.create(
        tenant_id=actor.tenant_id,
        owner_id=actor.user_id,
        dataset=dataset,
        dataset_version=dataset.version,
        agent_slug=agent.slug,
        agent_version=agent_version,
        scorers=scorers,
        repeats=repeats,
        concurrency=concurrency,
        status=Experiment.Status.RUNNING,
    )
    from evals.services.datasets import case_as_dict

    CaseResult.objects.bulk_create(
        [
            CaseResult(
                experiment=experiment, case=case, case_name=case.name, case_data=case_as_dict(case), repeat=r
            )
            for case in cases
            for r in range(repeats)
        ]
    )
    queue = enqueue or _celery_enqueue
    slots = min(concurrency, len(cases) * repeats)
    transaction.on_commit(lambda: [queue(experiment.pk) for _ in range(slots)])
    return experiment


def _celery_enqueue(experiment_id: int) -> None:
    from evals.tasks import experiment_step

    experiment_step.delay(experiment_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    result_id: int
    claim: uuid.UUID
    experiment_id: int
    tenant_id: int
    owner_id: int | None
    agent_slug: str
    agent_version: int
    scorers: list[dict[str, Any]]
    case: CaseSpec


def _stale_before() -> datetime:
    return _now() - timedelta(seconds=float(settings.EVALS_CASE_LEASE_S))


@transaction.atomic
def result_claim(*, experiment_id: int) -> Claim | None:
    """Claim the next case x repeat of a running experiment, or None when there is none to
    claim or `concurrency` claims are live already."""
    experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
    if experiment is None or experiment.status != Experiment.Status.RUNNING:
        return None
    stale = _stale_before()
    results = CaseResult.objects.filter(experiment_id=experiment_id)
    live = results.filter(status=CaseResult.Status.RUNNING, claimed_at__gt=stale).count()
    if live >= experiment.concurrency:
        return None
    while True:
        row = (
            results.filter(
                Q(status=CaseResult.Status.PENDING)
                | Q(status=CaseResult.Status.RUNNING, claimed_at__lte=stale)
            )
            .order_by("id")
            .select_for_update(skip_locked=True)
            .first()
        )
        if row is None:
            _complete_if_done(experiment)
            return None
        if row.attempts < MAX_ATTEMPTS:
            break
        # Its runs kept dying with their workers: recorded as errored, never claimed again.
        row.status = CaseResult.Status.ERRORED
        row.error = {
            "code": "attempts_exhausted",
            "message": f"The case was claimed {row.attempts} times and never finished.",
        }
        row.finished_at = _now()
        row.save(update_fields=["status", "error", "finished_at"])
    row.status = CaseResult.Status.RUNNING
    row.claim = uuid.uuid4()
    row.claimed_at = _now()
    row.attempts += 1
    row.save(update_fields=["status", "claim", "claimed_at", "attempts"])
    return Claim(
        result_id=row.pk,
        claim=row.claim,
        experiment_id=experiment.pk,
        tenant_id=experiment.tenant_id,
        owner_id=experiment.owner_id,
        agent_slug=experiment.agent_slug,
        agent_version=experiment.agent_version,
        scorers=experiment.scorers,
        case=CaseSpec.from_dict(row.case_data),
    )


def outcome_from_result(result: RunResult, latency_ms: float) -> RunOutcome:
    """What scorers see of a run: its answer, each tool call with its side-effect label, usage, latency."""
    failed = {r["toolCallId"] for r in result.tool_results if r.get("isError")}
    calls = []
    for call in result.tool_calls:
        definition = tool_registry.get(call["toolName"])
        arguments = call.get("input")
        calls.append(
            ToolCallRecord(
                name=call["toolName"],
                arguments=arguments if isinstance(arguments, dict) else {},
                side_effect=definition.side_effect if definition is not None else "none",
                is_error=call["toolCallId"] in failed or call["toolCallId"] not in _ids(result.tool_results),
            )
        )
    return RunOutcome(
        status=result.status,
        text=result.text,
        tool_calls=calls,
        object=result.object,
        prompt_tokens=result.usage.prompt_tokens,
        completion_tokens=result.usage.completion_tokens,
        latency_ms=latency_ms,
        run_id=result.run_id,
        trace_id=result.trace_id,
    )


def _ids(results: list[dict[str, Any]]) -> set[str]:
    return {r["toolCallId"] for r in results}


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseOutcome:
    status: str
    outcome: RunOutcome | None
    error: dict[str, Any]
    scores: list[Score]


def case_execute(claim: Claim) -> CaseOutcome:
    """Run the case through the agent runtime (the experiment's agent version) with its request
    context, then score it.
    A run that fails is `errored` with its reason; a scorer that cannot score is an errored score."""
    case = claim.case
    context = RequestContext(
        tenant_id=claim.tenant_id, user_id=claim.owner_id, values=dict(case.request_context)
    )
    started = time.perf_counter()
    try:
        result = generate(
            claim.agent_slug,
            context=context,
            messages=case.input_messages,
            options=RunOptions(agent_version=claim.agent_version),
        )
    except PlatformError as error:
        return CaseOutcome(status=CaseResult.Status.ERRORED, outcome=None, error=error.as_dict(), scores=[])
    except Exception as error:  # a bug in a tool or the runtime: recorded, the experiment goes on
        logger.exception("eval case %s failed", case.name)
        return CaseOutcome(
            status=CaseResult.Status.ERRORED,
            outcome=None,
            error={"code": "internal_error", "message": f"{type(error).__name__}: {error}"},
            scores=[],
        )
    outcome = outcome_from_result(result, (time.perf_counter() - started) * 1000)
    # One score per key: a case's own assertion replaces the experiment's scorer of the same key.
    configs = {c.key: c for c in (scorer_config(entry) for entry in [*claim.scorers, *case.assertions])}
    scores = [_score(config, case, outcome) for config in configs.values()]
    if any(s.errored for s in scores):
        status = CaseResult.Status.ERRORED
    elif all(s.passed for s in scores):
        status = CaseResult.Status.PASSED
    else:
        status = CaseResult.Status.FAILED
    return CaseOutcome(status=status, outcome=outcome, error={}, scores=scores)


def _score(config: ScorerConfig, case: CaseSpec, run: RunOutcome) -> Score:
    try:
        verdict = config.score(case, run)
    except ScorerError as error:
        return Score(
            scorer=config.key,
            value=None,
            passed=False,
            errored=True,
            reason=error.message,
            details=error.details,
        )
    except Exception as error:  # a bug in a custom scorer: an error on this score, the case goes on
        logger.exception("scorer %s failed", config.key)
        return Score(
            scorer=config.key,
            value=None,
            passed=False,
            errored=True,
            reason=f"{type(error).__name__}: {error}",
        )
    return Score(
        scorer=config.key,
        value=verdict.value,
        passed=verdict.passed,
        reason=verdict.reason,
        details=verdict.details,
    )


@transaction.atomic
def result_finish(*, claim: Claim, outcome: CaseOutcome, enqueue: Enqueue | None = None) -> bool:
    """Store the outcome if this attempt still holds the claim (False: it was taken over, nothing
    written); then finish the experiment or queue the next claim."""
    experiment = Experiment.objects.select_for_update().get(pk=claim.experiment_id)
    row = CaseResult.objects.select_for_update().get(pk=claim.result_id)
    if row.claim != claim.claim or row.status != CaseResult.Status.RUNNING:
        return False
    row.status = outcome.status
    row.output = outcome.outcome.as_dict() if outcome.outcome is not None else {}
    row.run_id = uuid.UUID(outcome.outcome.run_id) if outcome.outcome and outcome.outcome.run_id else None
    row.trace_id = (
        uuid.UUID(outcome.outcome.trace_id) if outcome.outcome and outcome.outcome.trace_id else None
    )
    row.error = outcome.error
    row.finished_at = _now()
    row.save()
    for score in outcome.scores:
        score.result = row
    Score.objects.bulk_create(outcome.scores)
    _after_result(experiment, enqueue)
    return True


def _complete_if_done(experiment: Experiment) -> bool:
    """Mark a running experiment completed when no case is pending or running (caller holds its lock)."""
    open_rows = experiment.results.filter(status__in=[CaseResult.Status.PENDING, CaseResult.Status.RUNNING])
    if experiment.status == Experiment.Status.RUNNING and not open_rows.exists():
        experiment.status = Experiment.Status.COMPLETED
        experiment.finished_at = _now()
        experiment.save(update_fields=["status", "finished_at"])
        return True
    return False


def _after_result(experiment: Experiment, enqueue: Enqueue | None) -> None:
    open_rows = experiment.results.filter(status__in=[CaseResult.Status.PENDING, CaseResult.Status.RUNNING])
    if _complete_if_done(experiment):
        return
    if (
        experiment.status == Experiment.Status.RUNNING
        and open_rows.filter(status=CaseResult.Status.PENDING).exists()
    ):
        queue = enqueue or _celery_enqueue
        transaction.on_commit(lambda: queue(experiment.pk))


def experiment_step(*, experiment_id: int, enqueue: Enqueue | None = None) -> bool:
    """Claim, run and store one case x repeat; False when there was nothing to claim."""
    claim = result_claim(experiment_id=experiment_id)
    if claim is None:
        return False
    result_finish(claim=claim, outcome=case_execute(claim), enqueue=enqueue)
    return True


def experiment_drain(*, experiment_id: int) -> None:
    """Run every remaining case in this process, one after another (the CI gate's way)."""
    while experiment_step(experiment_id=experiment_id, enqueue=lambda _id: None):
        pass


@transaction.atomic
def experiment_cancel(*, actor: Actor, experiment_id: int) -> Experiment:
    """Stop claiming: pending cases are cancelled; a case already running finishes and is kept."""
    experiment = owned(Experiment.objects.select_for_update(), actor).filter(pk=experiment_id).first()
    if experiment is None:
        raise NotFound("Experiment not found.")
    if experiment.status in {Experiment.Status.PENDING, Experiment.Status.RUNNING}:
        experiment.status = Experiment.Status.CANCELLED
        experiment.finished_at = _now()
        experiment.save(update_fields=["status", "finished_at"])
        experiment.results.filter(status=CaseResult.Status.PENDING).update(status=CaseResult.Status.CANCELLED)
    return experiment


def experiments_sweep(*, enqueue: Enqueue | None = None) -> int:
    """Queue a claim for each case whose claim went stale (its worker died) and for each running
    experiment with pending cases and no live claim (its queue was lost). Returns how many."""
    queue = enqueue or _celery_enqueue
    stale = _stale_before()
    queued = 0
    for experiment in Experiment.objects.filter(status=Experiment.Status.RUNNING):
        results = experiment.results
        dead = results.filter(status=CaseResult.Status.RUNNING, claimed_at__lte=stale).count()
        live = results.filter(status=CaseResult.Status.RUNNING, claimed_at__gt=stale).count()
        pending = results.filter(status=CaseResult.Status.PENDING).exists()
        wanted = dead + (1 if pending and live == 0 and dead == 0 else 0)
        for _ in range(min(wanted, experiment.concurrency)):
            queue(experiment.pk)
            queued += 1
    return queued


def experiment_start_scheduled(
    *,
    tenant: str,
    dataset: str,
    agent: str,
    scorers: list[dict[str, Any]] | None = None,
    repeats: int = 1,
    concurrency: int = 4,
    exclude_tags: list[str] | None = None,
    agent_version: int | None = None,
) -> Experiment:
    """Start an experiment for a schedule (a django-celery-beat periodic task of
    `evals.experiment_scheduled`, whose kwargs name the tenant by slug and the dataset by name).
    It runs as the tenant's operator; the experiment has no owner (tenant-wide)."""
    tenant_row = Tenant.objects.filter(slug=tenant).first()
    if tenant_row is None:
        raise NotFound(f"Tenant {tenant!r} not found.")
    actor = Actor.system(tenant_id=tenant_row.pk)
    return experiment_start(
        actor=actor,
        dataset_id=dataset_get_by_name(actor=actor, name=dataset).pk,
        agent_id=agent,
        scorers=scorers or [],
        repeats=repeats,
        concurrency=concurrency,
        exclude_tags=exclude_tags,
        agent_version=agent_version,
    )
