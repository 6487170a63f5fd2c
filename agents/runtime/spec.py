"""The agent configuration a run uses: loaded in one query, cached per process until it changes.

The cache is emptied whenever PostgreSQL announces a change to an agent, its
allowlist, a tool switch or a model route (triggers on those tables notify the
`agent_config` channel; see `core.pgnotify`), and at once by the process that
made the change. `AGENT_CONFIG_CACHE=false` reads the database on every run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection, transaction

from agents.instructions import instructions_compose
from agents.models import Agent, AgentToolkit, AgentVersion, ModelRoute, Tool
from agents.tools.toolkits import ToolkitUse
from core.errors import Disabled, NotFound
from core.pgnotify import NotifiedCache


@dataclass(frozen=True, kw_only=True, slots=True)
class AgentSpec:
    pk: int
    slug: str
    name: str
    version: int
    instructions: str  # the agent's own, with its style guardrails appended (`agents.instructions`)
    model: str
    fallback_models: tuple[str, ...]
    model_settings: dict[str, Any]
    allow_model_override: bool
    max_steps: int
    tool_ids: tuple[str, ...]
    toolkits: tuple[ToolkitUse, ...]
    ambient_exclude: frozenset[str]
    disabled_tools: frozenset[str]
    disabled_routes: frozenset[str]
    approval_tools: frozenset[str] = frozenset()  # tools an operator set to need approval (admin)
    require_approval: bool
    auto_resume: bool
    memory: dict[str, Any]
    request_context_schema: dict[str, Any]

    def route_disabled(self, model: str) -> bool:
        provider = model.partition("/")[0]
        return model in self.disabled_routes or f"{provider}/*" in self.disabled_routes


# One static statement (psycopg prepares it after a few executions): the agent with
# its allowlist, and the operator switches that apply to every agent. Written as SQL
# because building the equivalent ORM query costs more than running it.
_AGENT = Agent._meta.db_table
_TOOL = Tool._meta.db_table
_ROUTE = ModelRoute._meta.db_table
_ALLOWLIST = Agent.tools.through._meta.db_table
_TOOLKIT = AgentToolkit._meta.db_table
_SPEC_SQL = f"""
SELECT a.id, a.slug, a.name, a.version, a.instructions, a.model, a.fallback_models, a.model_settings,
       a.allow_model_override, a.max_steps, a.require_approval, a.auto_resume_suspended_tools, a.memory,
       a.request_context_schema, a.enabled, a.style, a.style_instructions,
       ARRAY(SELECT at.tool_id FROM {_ALLOWLIST} at WHERE at.agent_id = a.id ORDER BY at.tool_id),
       (SELECT json_agg(json_build_object('toolkit', k.toolkit, 'only', k.only, 'except', k.exclude,
                                          'prefix', k.prefix, 'rename', k.rename) ORDER BY k.position, k.id)
        FROM {_TOOLKIT} k WHERE k.agent_id = a.id),
       a.ambient_exclude,
       ARRAY(SELECT t.id FROM {_TOOL} t WHERE NOT t.enabled),
       ARRAY(SELECT r.model FROM {_ROUTE} r WHERE NOT r.enabled),
       ARRAY(SELECT t.id FROM {_TOOL} t WHERE t.approval_required)
FROM {_AGENT} a
WHERE a.slug = %s AND (a.tenant_id = %s OR a.tenant_id IS NULL)
"""  # noqa: S608 - table names come from model metadata, values are bound parameters


# (slug, tenant id) -> (the spec, whether the agent is enabled)
specs: NotifiedCache[tuple[str, int], tuple[AgentSpec, bool]] = NotifiedCache("agent_config")


def agent_config_changed() -> None:
    """This process changed agent configuration: drop cached specs now and again at commit."""
    specs.clear()
    transaction.on_commit(specs.clear)


def agent_spec_cached(*, slug: str, tenant_id: int) -> AgentSpec | None:
    """The spec if this process holds it (no database I/O, safe on an event loop), else None.

    A cached disabled agent raises Disabled, as `agent_spec_load` does.
    """
    cached = _cached(slug, tenant_id)
    return _enabled(cached) if cached is not None else None


def _cached(slug: str, tenant_id: int) -> tuple[AgentSpec, bool] | None:
    return specs.get((slug, tenant_id)) if settings.AGENT_CONFIG_CACHE else None


def _enabled(cached: tuple[AgentSpec, bool]) -> AgentSpec:
    spec, enabled = cached
    if not enabled:
        raise Disabled(f"Agent {spec.slug!r} is disabled by an operator.", details={"agent": spec.slug})
    return spec


def agent_spec_load(*, slug: str, tenant_id: int) -> AgentSpec:
    """The current configuration of an agent this tenant may use.

    Unknown (or another tenant's) agent: NotFound. Disabled agent: Disabled (409).
    """
    cached = _cached(slug, tenant_id)
    if cached is None:
        generation = specs.generation()
        cached = _load(slug, tenant_id)
        # Reads inside a transaction may see uncommitted changes: never cache those.
        if settings.AGENT_CONFIG_CACHE and not connection.in_atomic_block:
            specs.put((slug, tenant_id), cached, generation)
    return _enabled(cached)


def _load(slug: str, tenant_id: int) -> tuple[AgentSpec, bool]:
    connection.ensure_connection()
    # A server-side-binding cursor, so psycopg prepares the statement after a few runs
    # and PostgreSQL stops re-planning it (Django's own cursors bind client-side).
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_SPEC_SQL, [slug, tenant_id], prepare=True)
        row = cursor.fetchone()
    if row is None:
        raise NotFound(f"Agent {slug!r} not found.")
    (pk, slug, name, version, instructions, model, fallbacks, model_settings, allow_override, max_steps,
     require_approval, auto_resume, memory, context_schema, enabled, style, style_custom, allowlist,
     toolkit_uses, ambient_exclude,
     disabled_tools, disabled_routes, approval_tools) = row  # fmt: skip
    spec = AgentSpec(
        pk=pk,
        slug=slug,
        name=name,
        version=version,
        instructions=instructions_compose(instructions=instructions, style=style, custom=style_custom),
        model=model,
        fallback_models=tuple(_json(fallbacks) or ()),
        model_settings=dict(_json(model_settings) or {}),
        allow_model_override=allow_override,
        max_steps=max_steps,
        tool_ids=tuple(allowlist or ()),
        toolkits=tuple(ToolkitUse.from_config(use) for use in _json(toolkit_uses) or ()),
        ambient_exclude=frozenset(_json(ambient_exclude) or ()),
        disabled_tools=frozenset(disabled_tools or ()),
        disabled_routes=frozenset(disabled_routes or ()),
        approval_tools=frozenset(approval_tools or ()),
        require_approval=require_approval,
        auto_resume=auto_resume,
        memory=dict(_json(memory) or {}),
        request_context_schema=dict(_json(context_schema) or {}),
    )
    return spec, bool(enabled)


# The fields of a stored version that make up a run's configuration (the rest of a spec, the
# operator switches, is always today's).
_VERSION_FIELDS = (
    "name", "model", "fallback_models", "model_settings", "allow_model_override", "max_steps",
    "require_approval", "memory", "request_context_schema",
)  # fmt: skip


def agent_spec_version(spec: AgentSpec, number: int) -> AgentSpec:
    """The configuration of the agent's stored version `number` (`spec`: its current one).

    Instructions (with that version's style guardrails), model, settings, tool allowlist,
    toolkits and memory come from that version; the operator switches (disabled tools and model routes, the
    enabled switch) stay today's, so an old version cannot bring back a tool an operator turned
    off. Unknown version: NotFound.
    """
    if number == spec.version:
        return spec
    version = AgentVersion.objects.filter(agent_id=spec.pk, number=number).only("config").first()
    if version is None:
        raise NotFound(
            f"Agent {spec.slug!r} has no version {number}.", details={"agent_version": [str(number)]}
        )
    config = version.config
    values: dict[str, Any] = {name: config[name] for name in _VERSION_FIELDS if name in config}
    if "fallback_models" in values:
        values["fallback_models"] = tuple(values["fallback_models"] or ())
    for name in ("model_settings", "memory", "request_context_schema"):
        if name in values:
            values[name] = dict(values[name] or {})
    if "auto_resume_suspended_tools" in config:
        values["auto_resume"] = bool(config["auto_resume_suspended_tools"])
    if "instructions" in config:
        values["instructions"] = instructions_compose(
            instructions=config["instructions"],
            style=config.get("style", ""),
            custom=config.get("style_instructions", ""),
        )
    return replace(
        spec,
        version=number,
        tool_ids=tuple(sorted(config.get("tools") or ())),
        toolkits=tuple(ToolkitUse.from_config(use) for use in config.get("toolkits") or ()),
        ambient_exclude=frozenset(config.get("ambient_exclude") or ()),
        **values,
    )


def _json(value: Any) -> Any:
    """jsonb columns arrive decoded from psycopg, or as text through some drivers."""
    return json.loads(value) if isinstance(value, str) else value
