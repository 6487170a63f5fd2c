"""Celery tasks: a message carries a run id and nothing else."""

from __future__ import annotations

from celery import shared_task

from workflows.engine.driver import run_advance as advance


@shared_task(name="workflows.run_advance", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_advance(run_id: str) -> str:
    """Claim the run and carry it as far as it goes (any worker can continue any run)."""
    return advance(run_id)


@shared_task(name="workflows.runs_sweep", ignore_result=True)
def runs_sweep() -> int:
    """Fire due timers, hand on runs whose worker died, delete runs past retention (beat)."""
    from workflows.sweeps import runs_sweep as sweep

    return sweep()
