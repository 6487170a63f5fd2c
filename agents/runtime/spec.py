"""The agent configuration a run uses, loaded in one query."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, Q

from agents.models import Agent, ModelRoute, Tool
from core.errors import Disabled, NotFound


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentSpec:
    pk: int
    slug: str
    name: str
    version: int
    instructions: str
    model: str
    fallback_models: tuple[str, ...]
    model_settings: dict[str, Any]
    allow_model_override: bool
    max_steps: int
    tool_ids: tuple[str, ...]
    disabled_tools: frozenset[str]
    disabled_routes: frozenset[str]
    require_approval: bool
    memory: dict[str, Any]
    request_context_schema: dict[str, Any]

    def route_disabled(self, model: str) -> bool:
        provider = model.partition("/")[0]
        return model in self.disabled_routes or f"{provider}/*" in self.disabled_routes


def agent_spec_load(*, slug: str, tenant_id: int) -> AgentSpec:
    """The current configuration of an agent this tenant may use.

    Unknown (or another tenant's) agent: NotFound. Disabled agent: Disabled (409).
    """
    row = (
        Agent.objects.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True), slug=slug)
        .annotate(
            allowlist=ArraySubquery(Tool.objects.filter(agents=OuterRef("pk")).values("id")),
            disabled_tools=ArraySubquery(Tool.objects.filter(enabled=False).values("id")),
            disabled_routes=ArraySubquery(ModelRoute.objects.filter(enabled=False).values("model")),
        )
        .first()
    )
    if row is None:
        raise NotFound(f"Agent {slug!r} not found.")
    if not row.enabled:
        raise Disabled(f"Agent {slug!r} is disabled by an operator.", details={"agent": slug})
    return AgentSpec(
        pk=row.pk,
        slug=row.slug,
        name=row.name,
        version=row.version,
        instructions=row.instructions,
        model=row.model,
        fallback_models=tuple(row.fallback_models or ()),
        model_settings=dict(row.model_settings or {}),
        allow_model_override=row.allow_model_override,
        max_steps=row.max_steps,
        tool_ids=tuple(row.allowlist or ()),
        disabled_tools=frozenset(row.disabled_tools or ()),
        disabled_routes=frozenset(row.disabled_routes or ()),
        require_approval=row.require_approval,
        memory=dict(row.memory or {}),
        request_context_schema=dict(row.request_context_schema or {}),
    )
