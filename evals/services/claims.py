"""Claims of an experiment's cases: which worker runs which case x repeat, and for how long.

A worker claims the next pending `CaseResult` row in one statement (`FOR UPDATE SKIP
LOCKED`); its first claim also takes a lock on the experiment row, which holds the
concurrency limit: at most `concurrency` rows are `running` with a live claim. A claim is a
random id and a time; a row whose claim is older than `EVALS_CASE_LEASE_S` belongs to a dead
worker and may be claimed again, at most `MAX_ATTEMPTS` times.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from evals.models import CaseResult, Experiment
from evals.scorers import CaseSpec, ScorerConfig, scorer_config

MAX_ATTEMPTS = 3  # claims of one case before it is recorded as errored


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class Target:
    """What an experiment's cases run against and the experiment's scorers, parsed once: a worker
    reads it with its first claim and keeps it for every case it runs next."""

    experiment_id: int
    tenant_id: int
    owner_id: int | None
    agent_slug: str
    agent_version: int | None
    workflow_id: str
    scorers: dict[str, ScorerConfig]

    @classmethod
    def of(cls, experiment: Experiment) -> Target:
        return cls(
            experiment_id=experiment.pk,
            tenant_id=experiment.tenant_id,
            owner_id=experiment.owner_id,
            agent_slug=experiment.agent_slug,
            agent_version=experiment.agent_version,
            workflow_id=experiment.workflow_id,
            scorers={c.key: c for c in (scorer_config(entry) for entry in experiment.scorers)},
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    result_id: int
    claim: uuid.UUID
    target: Target
    case: CaseSpec

    @property
    def experiment_id(self) -> int:
        return self.target.experiment_id


def stale_before() -> datetime:
    return now() - timedelta(seconds=float(settings.EVALS_CASE_LEASE_S))


def _claim_sql() -> str:
    """One statement that claims the oldest claimable row of a running experiment (pending, or
    running under a stale claim) and returns it: `FOR UPDATE SKIP LOCKED`, so workers never wait
    on each other's rows. Names come from the models' metadata."""
    results, experiments = CaseResult._meta, Experiment._meta

    def col(meta: Any, name: str) -> str:
        return str(meta.get_field(name).column)

    status, claim, claimed_at, attempts = (
        col(results, f) for f in ("status", "claim", "claimed_at", "attempts")
    )
    sql = (
        f"UPDATE {results.db_table} SET"  # noqa: S608 - names from the models' metadata, values as parameters
        f" {status} = %s, {claim} = %s, {claimed_at} = %s, "
        f"{attempts} = {attempts} + 1 WHERE {results.pk.column} = ("
        f"SELECT r.{results.pk.column} FROM {results.db_table} r "
        f"WHERE r.{col(results, 'experiment')} = %s "
        f"AND (r.{status} = %s OR (r.{status} = %s AND r.{claimed_at} <= %s)) "
        f"AND EXISTS (SELECT 1 FROM {experiments.db_table} x WHERE x.{experiments.pk.column} = %s "
        f"AND x.{col(experiments, 'status')} = %s) "
        f"ORDER BY r.{results.pk.column} LIMIT 1 FOR UPDATE SKIP LOCKED) "
        f"RETURNING {results.pk.column}, {attempts}, {col(results, 'case_data')}"
    )
    return sql


def claim_next(target: Target) -> Claim | None:
    """Claim the next case x repeat (the caller holds a transaction); None when none is left or
    the experiment is no longer running (cancelled). A row claimed `MAX_ATTEMPTS` times already
    (its workers kept dying) is recorded as errored and never claimed again."""
    running = CaseResult.Status.RUNNING
    while True:
        token = uuid.uuid4()
        with connection.cursor() as cursor:
            cursor.execute(
                _claim_sql(),
                [
                    running,
                    token,
                    now(),
                    target.experiment_id,
                    CaseResult.Status.PENDING,
                    running,
                    stale_before(),
                    target.experiment_id,
                    Experiment.Status.RUNNING,
                ],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        result_id, attempts, case_data = row
        if attempts <= MAX_ATTEMPTS:
            data = json.loads(case_data) if isinstance(case_data, str) else case_data
            return Claim(result_id=result_id, claim=token, target=target, case=CaseSpec.from_dict(data))
        CaseResult.objects.filter(pk=result_id).update(
            status=CaseResult.Status.ERRORED,
            attempts=MAX_ATTEMPTS,
            error={
                "code": "attempts_exhausted",
                "message": f"The case was claimed {MAX_ATTEMPTS} times and never finished.",
            },
            finished_at=now(),
        )


@transaction.atomic
def result_claim(*, experiment_id: int) -> Claim | None:
    """A worker's first claim: the next case x repeat of a running experiment, or None when there
    is none to claim or `concurrency` claims are live already (checked under a lock on the
    experiment row)."""
    experiment = Experiment.objects.select_for_update().filter(pk=experiment_id).first()
    if experiment is None or experiment.status != Experiment.Status.RUNNING:
        return None
    results = CaseResult.objects.filter(experiment_id=experiment_id)
    live = results.filter(status=CaseResult.Status.RUNNING, claimed_at__gt=stale_before()).count()
    if live >= experiment.concurrency:
        return None
    claim = claim_next(Target.of(experiment))
    if claim is None:
        complete_if_done(experiment)
    return claim


def complete_if_done(experiment: Experiment) -> bool:
    """Mark a running experiment completed when no case is pending or running (caller holds its lock)."""
    open_rows = experiment.results.filter(status__in=[CaseResult.Status.PENDING, CaseResult.Status.RUNNING])
    if experiment.status == Experiment.Status.RUNNING and not open_rows.exists():
        experiment.status = Experiment.Status.COMPLETED
        experiment.finished_at = now()
        experiment.save(update_fields=["status", "finished_at"])
        return True
    return False
