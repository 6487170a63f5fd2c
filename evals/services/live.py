"""Live scoring: a sample of each configured agent's completed runs, scored in the background
(a beat task), never on the request path.

Sampling is a hash of the run id against the rate, so a run is in or out of the sample for
good and a second sweep scores nothing twice (scores are unique per run and scorer). Each
sweep looks at runs started within `EVALS_LIVE_WINDOW_S` (and after the configuration was
made), at most `EVALS_LIVE_BATCH` per configuration.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction

from agents import selectors as agent_selectors
from agents.tools.registry import registry as tool_registry
from core.access import Actor, owned
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from evals.models import LiveScore, LiveScoring
from evals.scorers import CaseSpec, RunOutcome, ScorerError, ToolCallRecord, scorer_config
from evals.scorers.context import scoring_for
from evals.validation import scorers_validate


def sampled(run_id: uuid.UUID | str, rate: float) -> bool:
    """Whether a run is in a sample of `rate` (0..1): the first 8 bytes of a hash of its id."""
    digest = hashlib.sha256(str(run_id).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < rate


@transaction.atomic
def live_scoring_set(
    *, actor: Actor, agent_id: str, sample_rate: float, scorers: list[dict[str, Any]], enabled: bool = True
) -> LiveScoring:
    """Create or change an agent's live scoring (its owner or a tenant admin may change it)."""
    agent_selectors.agent_get(slug=agent_id, tenant_id=actor.tenant_id)
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | float) or not 0 <= sample_rate <= 1:
        raise ValidationFailed(
            "sample_rate must be a number from 0 to 1.", details={"sample_rate": ["Out of range."]}
        )
    scorers_validate(scorers)
    existing = LiveScoring.objects.filter(tenant_id=actor.tenant_id, agent_slug=agent_id).first()
    if existing is not None and not owned(LiveScoring.objects.filter(pk=existing.pk), actor).exists():
        raise NotFound("Live scoring not found.")
    config, _ = LiveScoring.objects.update_or_create(
        tenant_id=actor.tenant_id,
        agent_slug=agent_id,
        defaults={"sample_rate": float(sample_rate), "scorers": scorers, "enabled": enabled},
        create_defaults={
            "owner_id": actor.user_id,
            "sample_rate": float(sample_rate),
            "scorers": scorers,
            "enabled": enabled,
        },
    )
    return config


def _rate_checked(sample_rate: Any) -> float:
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | float) or not 0 <= sample_rate <= 1:
        raise ValidationFailed(
            "sample_rate must be a number from 0 to 1.", details={"sample_rate": ["A number from 0 to 1."]}
        )
    return float(sample_rate)


def _configurer(actor: Actor) -> None:
    if not actor.is_tenant_admin:
        raise Forbidden("Only a tenant admin configures live scoring.")


@transaction.atomic
def live_scoring_create(
    *, actor: Actor, agent_id: str, sample_rate: float, scorers: list[dict[str, Any]], enabled: bool = True
) -> LiveScoring:
    """A tenant admin turns live scoring on for an agent of the tenant (one configuration per agent:
    409 if it has one). A member is refused (403)."""
    _configurer(actor)
    try:
        agent_selectors.agent_get(slug=agent_id, tenant_id=actor.tenant_id)
    except NotFound as error:
        raise ValidationFailed(error.message, details={"agent_id": [error.message]}) from error
    rate = _rate_checked(sample_rate)
    scorers_validate(scorers)
    if LiveScoring.objects.filter(tenant_id=actor.tenant_id, agent_slug=agent_id).exists():
        raise Conflict(
            f"Agent {agent_id!r} has a live-scoring configuration already; change that one.",
            details={"agent_id": ["Already configured."]},
        )
    return LiveScoring.objects.create(
        tenant_id=actor.tenant_id,
        owner_id=actor.user_id,
        agent_slug=agent_id,
        sample_rate=rate,
        scorers=scorers,
        enabled=enabled,
    )


def _config_for_change(actor: Actor, config_id: int) -> LiveScoring:
    """Another owner's configuration is a 404 (as a missing one); one the actor may read but not
    configure (a member's view of a tenant-wide one) is a 403."""
    config = owned(LiveScoring.objects.select_for_update(), actor).filter(pk=config_id).first()
    if config is None:
        from evals.selectors import live_scoring_get

        live_scoring_get(actor=actor, config_id=config_id)  # NotFound unless the actor may read it
        _configurer(actor)
        raise NotFound("Live scoring not found.")
    _configurer(actor)
    return config


@transaction.atomic
def live_scoring_update(
    *,
    actor: Actor,
    config_id: int,
    sample_rate: float | None = None,
    scorers: list[dict[str, Any]] | None = None,
    enabled: bool | None = None,
) -> LiveScoring:
    """Change the rate, the scorers or the switch of a configuration (a tenant admin of its tenant)."""
    config = _config_for_change(actor, config_id)
    if sample_rate is not None:
        config.sample_rate = _rate_checked(sample_rate)
    if scorers is not None:
        config.scorers = scorers_validate(scorers)
    if enabled is not None:
        config.enabled = enabled
    config.save(update_fields=["sample_rate", "scorers", "enabled"])
    return config


@transaction.atomic
def live_scoring_delete(*, actor: Actor, config_id: int) -> None:
    """Turn live scoring off for good: the configuration and the live scores it made are deleted."""
    _config_for_change(actor, config_id).delete()


def outcome_from_stored_run(
    *, run_id: str, trace_id: str, result: dict[str, Any], duration_ms: float
) -> RunOutcome:
    failed = {r.get("toolCallId") for r in result.get("toolResults") or [] if r.get("isError")}
    done = {r.get("toolCallId") for r in result.get("toolResults") or []}
    calls = []
    for call in result.get("toolCalls") or []:
        definition = tool_registry.get(call.get("toolName", ""))
        arguments = call.get("input")
        calls.append(
            ToolCallRecord(
                name=call.get("toolName", ""),
                arguments=arguments if isinstance(arguments, dict) else {},
                side_effect=definition.side_effect if definition is not None else "none",
                is_error=call.get("toolCallId") in failed or call.get("toolCallId") not in done,
            )
        )
    usage = result.get("usage") or {}
    return RunOutcome(
        status="completed",
        text=result.get("text", ""),
        tool_calls=calls,
        object=result.get("object"),
        prompt_tokens=int(usage.get("promptTokens", 0)),
        completion_tokens=int(usage.get("completionTokens", 0)),
        latency_ms=duration_ms,
        run_id=run_id,
        trace_id=trace_id,
    )


def live_scores_sweep() -> int:
    """Score the sampled, not yet scored runs of every enabled configuration; how many runs."""
    scored = 0
    window = datetime.now(UTC) - timedelta(seconds=float(settings.EVALS_LIVE_WINDOW_S))
    for config in LiveScoring.objects.filter(enabled=True, sample_rate__gt=0):
        configs = [scorer_config(entry) for entry in config.scorers]
        if not configs:
            continue
        runs = agent_selectors.runs_completed_since(
            tenant_id=config.tenant_id,
            agent_slug=config.agent_slug,
            since=max(window, config.created_at),
            limit=int(settings.EVALS_LIVE_BATCH),
        )
        done = set(LiveScore.objects.filter(config=config).values_list("run_id", flat=True))
        for run in runs:
            if run.id in done or not sampled(run.id, config.sample_rate):
                continue
            case = CaseSpec(
                name=f"run-{run.id}",
                input_messages=list((run.input or {}).get("messages") or []),
                request_context=dict((run.input or {}).get("requestContext") or {}),
            )
            outcome = outcome_from_stored_run(
                run_id=str(run.id),
                trace_id=str(run.trace_id or ""),
                result=run.result or {},
                duration_ms=run.duration_ms,
            )
            rows = []
            for entry in configs:
                try:
                    with scoring_for(tenant_id=config.tenant_id, owner_id=None):
                        verdict = entry.score(case, outcome)
                    fields: dict[str, Any] = {
                        "value": verdict.value,
                        "passed": verdict.passed,
                        "reason": verdict.reason,
                        "details": verdict.details,
                    }
                except ScorerError as error:
                    fields = {
                        "value": None,
                        "errored": True,
                        "reason": error.message,
                        "details": error.details,
                    }
                rows.append(
                    LiveScore(
                        config=config,
                        tenant_id=config.tenant_id,
                        run_id=run.id,
                        trace_id=run.trace_id,
                        scorer=entry.key,
                        **fields,
                    )
                )
            LiveScore.objects.bulk_create(rows, ignore_conflicts=True)
            scored += 1
    return scored
