"""Celery tasks: thin, ids in, one service call."""

from __future__ import annotations

from celery import shared_task

from evals.services import experiments


@shared_task(name="evals.experiment_step", acks_late=True, reject_on_worker_lost=True)
def experiment_step(experiment_id: int) -> bool:
    """Claim, run and score one case x repeat of the experiment; the next claim is queued after commit."""
    return experiments.experiment_step(experiment_id=experiment_id)


@shared_task(name="evals.experiments_sweep")
def experiments_sweep() -> int:
    """Requeue cases whose worker died and experiments whose queue was lost (beat)."""
    return experiments.experiments_sweep()
