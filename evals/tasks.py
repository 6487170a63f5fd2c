"""Celery tasks: thin, ids in, one service call."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from evals.services import experiments


@shared_task(name="evals.experiment_step", acks_late=True, reject_on_worker_lost=True)
def experiment_step(experiment_id: int) -> int:
    """A worker's share of the experiment: cases one after another, each stored together with the
    next claim, for up to `EVALS_WORK_SLICE_S`; then the rest is handed on in a new task."""
    return experiments.experiment_work(experiment_id=experiment_id)


@shared_task(name="evals.experiments_sweep")
def experiments_sweep() -> int:
    """Requeue cases whose worker died and experiments whose queue was lost (beat)."""
    return experiments.experiments_sweep()


@shared_task(name="evals.experiment_scheduled")
def experiment_scheduled(
    tenant: str,
    dataset: str,
    agent: str,
    scorers: list[dict[str, Any]] | None = None,
    repeats: int = 1,
    concurrency: int = 4,
    exclude_tags: list[str] | None = None,
    agent_version: int | None = None,
) -> int:
    """Start an experiment on a schedule: create a periodic task of this name in the admin
    (django-celery-beat) with kwargs `{"tenant": "default", "dataset": "demo", "agent": "assistant"}`."""
    experiment = experiments.experiment_start_scheduled(
        tenant=tenant,
        dataset=dataset,
        agent=agent,
        scorers=scorers,
        repeats=repeats,
        concurrency=concurrency,
        exclude_tags=exclude_tags,
        agent_version=agent_version,
    )
    return experiment.pk


@shared_task(name="evals.live_scores_sweep")
def live_scores_sweep() -> int:
    """Score the sampled live runs of every agent with live scoring on (beat)."""
    from evals.services.live import live_scores_sweep as sweep

    return sweep()
