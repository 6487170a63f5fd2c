"""Experiments: start, claim and run one case x repeat at a time, score, finish, cancel, sweep.

Each case x repeat is a `CaseResult` row created when the experiment starts (unique per
experiment, case and repeat, so a case can never be counted twice). A worker task claims
the next pending row (`evals.services.claims`). A finished run is written only by the
attempt that still holds the claim, so a late finisher whose row was taken over changes
nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

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
from evals.scorers.context import scoring_for
from evals.selectors import dataset_get, dataset_get_by_name
from evals.services.claims import Claim, claim_next, complete_if_done, now, result_claim, stale_before
from evals.services.workflow_target import cases_check, workflow_case_run, workflow_target_get
from evals.validation import scorers_validate

logger = logging.getLogger(__name__)

MAX_REPEATS = 20
MAX_CONCURRENCY = 64
Enqueue = Callable[[int], None]


@transaction.atomic
def experiment_start(
    *,
    actor: Actor,
    dataset_id: int,
    agent_id: str | None = None,
    scorers: list[dict[str, Any]],
    repeats: int = 1,
    concurrency: int = 4,
    exclude_tags: list[str] | None = None,
    agent_version: int | None = None,
    workflow_id: str | None = None,
    enqueue: Enqueue | None = None,
) -> Experiment:
    """Freeze the dataset's cases into result rows and queue `concurrency` workers.

    The target is an agent (`agent_id`) or a workflow (`workflow_id`), not both. Every case runs
    the agent's stored version `agent_version` (default: its current version when the experiment
    starts), so a change to the agent while it runs does not mix versions; a workflow runs its
    newest registered version, recorded. `enqueue(experiment_id)` queues one worker (a Celery
    task by default); it runs after commit. Cases carrying any of `exclude_tags` are left out.
    """
    dataset = dataset_get(actor=actor, dataset_id=dataset_id)
    if bool(agent_id) == bool(workflow_id):
        raise ValidationFailed(
            "Give an agent or a workflow to run the dataset against, not both.",
            details={
                "agent_id": ["An agent or a workflow, not both."],
                "workflow_id": ["An agent or a workflow."],
            },
        )
    workflow = None
    agent_slug = ""
    if workflow_id:
        if agent_version is not None:
            raise ValidationFailed(
                "agent_version applies to an agent.", details={"agent_version": ["Not for a workflow."]}
            )
        workflow = workflow_target_get(workflow_id)
    else:
        agent = agent_selectors.agent_get(slug=str(agent_id), tenant_id=actor.tenant_id)
        agent_slug = agent.slug
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
    from evals.services.datasets import case_as_dict

    if workflow is not None:
        cases_check(workflow, [CaseSpec.from_dict(case_as_dict(c)) for c in cases])
    experiment = Experiment.objects.create(
        tenant_id=actor.tenant_id,
        owner_id=actor.user_id,
        dataset=dataset,
        dataset_version=dataset.version,
        agent_slug=agent_slug,
        agent_version=agent_version,
        workflow_id=workflow.id if workflow is not None else "",
        workflow_version=workflow.version if workflow is not None else "",
        scorers=scorers,
        repeats=repeats,
        concurrency=concurrency,
        status=Experiment.Status.RUNNING,
    )
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
    context, or as a run of the experiment's workflow, then score it.
    A run that fails is `errored` with its reason; a scorer that cannot score is an errored score."""
    case, target = claim.case, claim.target
    started = time.perf_counter()
    run_error: dict[str, Any] = {}
    try:
        if target.workflow_id:
            actor = Actor(
                tenant_id=target.tenant_id, user_id=target.owner_id, is_tenant_admin=target.owner_id is None
            )
            outcome, run_error = workflow_case_run(actor=actor, workflow_id=target.workflow_id, case=case)
        else:
            context = RequestContext(
                tenant_id=target.tenant_id, user_id=target.owner_id, values=dict(case.request_context)
            )
            result = generate(
                target.agent_slug,
                context=context,
                messages=case.input_messages,
                options=RunOptions(agent_version=target.agent_version),
            )
            outcome = outcome_from_result(result, (time.perf_counter() - started) * 1000)
    except PlatformError as error:
        return CaseOutcome(status=CaseResult.Status.ERRORED, outcome=None, error=error.as_dict(), scores=[])
    except Exception as error:  # a bug in a tool, a step or the runtime: recorded, the experiment goes on
        logger.exception("eval case %s failed", case.name)
        return CaseOutcome(
            status=CaseResult.Status.ERRORED,
            outcome=None,
            error={"code": "internal_error", "message": f"{type(error).__name__}: {error}"},
            scores=[],
        )
    # One score per key: a case's own assertion replaces the experiment's scorer of the same key.
    configs = dict(target.scorers)
    configs.update({c.key: c for c in (scorer_config(entry) for entry in case.assertions)})
    with scoring_for(tenant_id=target.tenant_id, owner_id=target.owner_id):
        scores = [_score(config, case, outcome) for config in configs.values()]
    if run_error or any(s.errored for s in scores):
        status = CaseResult.Status.ERRORED
    elif all(s.passed for s in scores):
        status = CaseResult.Status.PASSED
    else:
        status = CaseResult.Status.FAILED
    return CaseOutcome(status=status, outcome=outcome, error=run_error, scores=scores)


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


def _store(claim: Claim, outcome: CaseOutcome) -> bool:
    """Write the outcome and its scores if this attempt still holds the claim (two statements;
    the caller holds a transaction). False: the claim was taken over and nothing was written."""
    run = outcome.outcome
    stored = CaseResult.objects.filter(
        pk=claim.result_id, claim=claim.claim, status=CaseResult.Status.RUNNING
    ).update(
        status=outcome.status,
        output=run.as_dict() if run is not None else {},
        run_id=uuid.UUID(run.run_id) if run and run.run_id else None,
        trace_id=uuid.UUID(run.trace_id) if run and run.trace_id else None,
        workflow_run_id=uuid.UUID(run.workflow_run_id) if run and run.workflow_run_id else None,
        error=outcome.error,
        finished_at=now(),
    )
    if not stored:
        return False
    for score in outcome.scores:
        score.result_id = claim.result_id
    Score.objects.bulk_create(outcome.scores)
    return True


@transaction.atomic
def result_finish(*, claim: Claim, outcome: CaseOutcome, enqueue: Enqueue | None = None) -> bool:
    """Store the outcome if this attempt still holds the claim (False: it was taken over, nothing
    written); then finish the experiment or queue a worker for what is left."""
    if not _store(claim, outcome):
        return False
    experiment = Experiment.objects.select_for_update().get(pk=claim.experiment_id)
    if (
        not complete_if_done(experiment)
        and experiment.status == Experiment.Status.RUNNING
        and experiment.results.filter(status=CaseResult.Status.PENDING).exists()
    ):
        queue = enqueue or _celery_enqueue
        transaction.on_commit(lambda: queue(experiment.pk))
    return True


@transaction.atomic
def result_finish_and_claim(*, claim: Claim, outcome: CaseOutcome) -> tuple[bool, Claim | None]:
    """Store the outcome and claim the next case in the same transaction (three statements):
    the worker keeps its slot, so the concurrency limit holds without a lock on the experiment.
    `(False, None)` when this attempt's claim was taken over."""
    if not _store(claim, outcome):
        return False, None
    return True, claim_next(claim.target)


@transaction.atomic
def _complete(experiment_id: int) -> bool:
    experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
    return experiment is not None and complete_if_done(experiment)


def experiment_work(
    *, experiment_id: int, enqueue: Enqueue | None = None, slice_s: float | None = None
) -> int:
    """A worker's share of an experiment: claim a case, run and score it, store it and claim the
    next in one transaction, and so on, until nothing is left to claim (then the experiment is
    completed if every case is done), the experiment stops running (cancelled), or `slice_s`
    (`EVALS_WORK_SLICE_S`) has passed: then the last result is stored and one new worker task is
    queued for the rest. Returns how many cases this call stored."""
    slice_s = float(settings.EVALS_WORK_SLICE_S) if slice_s is None else slice_s
    began = time.monotonic()
    claim = result_claim(experiment_id=experiment_id)
    stored = 0
    while claim is not None:
        outcome = case_execute(claim)
        if time.monotonic() - began >= slice_s:
            stored += result_finish(claim=claim, outcome=outcome, enqueue=enqueue)
            return stored
        kept, claim = result_finish_and_claim(claim=claim, outcome=outcome)
        if not kept:
            return stored  # taken over: the worker that holds it now carries the experiment on
        stored += 1
    _complete(experiment_id)
    return stored


def experiment_step(*, experiment_id: int, enqueue: Enqueue | None = None) -> bool:
    """Claim, run and store one case x repeat; False when there was nothing to claim."""
    claim = result_claim(experiment_id=experiment_id)
    if claim is None:
        return False
    result_finish(claim=claim, outcome=case_execute(claim), enqueue=enqueue)
    return True


def experiment_drain(*, experiment_id: int) -> None:
    """Run every remaining case in this process, one after another (the CI gate's way)."""
    experiment_work(experiment_id=experiment_id, enqueue=lambda _id: None, slice_s=float("inf"))


@transaction.atomic
def experiment_cancel(*, actor: Actor, experiment_id: int) -> Experiment:
    """Stop claiming: pending cases are cancelled; a case already running finishes and is kept."""
    experiment = owned(Experiment.objects.select_for_update(), actor).filter(pk=experiment_id).first()
    if experiment is None:
        raise NotFound("Experiment not found.")
    if experiment.status in {Experiment.Status.PENDING, Experiment.Status.RUNNING}:
        experiment.status = Experiment.Status.CANCELLED
        experiment.finished_at = now()
        experiment.save(update_fields=["status", "finished_at"])
        experiment.results.filter(status=CaseResult.Status.PENDING).update(status=CaseResult.Status.CANCELLED)
    return experiment


def experiments_sweep(*, enqueue: Enqueue | None = None) -> int:
    """Queue a claim for each case whose claim went stale (its worker died) and for each running
    experiment with pending cases and no live claim (its queue was lost). Returns how many."""
    queue = enqueue or _celery_enqueue
    stale = stale_before()
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
