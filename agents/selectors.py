"""Reads for agents, tools and runs, scoped to the caller's tenant."""

from __future__ import annotations

import difflib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from agents.models import Agent, AgentVersion, Run, Tool
from agents.tools.toolkits import Composition, ToolkitUse, tools_compose
from core.access import Actor, owned
from core.errors import NotFound
from core.writebehind import first_written


def agent_list(*, tenant_id: int) -> QuerySet[Agent]:
    return Agent.objects.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True)).prefetch_related(
        "tools", "toolkit_uses"
    )


def agent_exists(*, slug: str, tenant_id: int) -> bool:
    """Whether this tenant may use an agent with this id (one cheap query)."""
    return Agent.objects.filter(Q(tenant_id=tenant_id) | Q(tenant__isnull=True), slug=slug).exists()


def agent_get(*, slug: str, tenant_id: int) -> Agent:
    agent = agent_list(tenant_id=tenant_id).filter(slug=slug).first()
    if agent is None:
        raise NotFound(f"Agent {slug!r} not found.")
    return agent


def agent_version_get(*, agent: Agent, number: int) -> AgentVersion:
    """A stored version of an agent the caller already holds (see `agent_get`)."""
    version = agent.versions.filter(number=number).first()
    if version is None:
        raise NotFound(
            f"Agent {agent.slug!r} has no version {number}.", details={"agent_version": [str(number)]}
        )
    return version


def agent_tools_composition(agent: Agent) -> Composition:
    """The tools this agent is offered as saved (allowlist, toolkits, ambient tools), and why;
    operator switches are not applied here (`disabled_tool_ids` says which are off)."""
    uses = [
        ToolkitUse(
            toolkit=row.toolkit,
            only=tuple(row.only or ()),
            exclude=tuple(row.exclude or ()),
            prefix=row.prefix,
            rename=dict(row.rename or {}),
        )
        for row in agent.toolkit_uses.all()
    ]
    explicit = sorted(tool.id for tool in agent.tools.all())
    return tools_compose(explicit=explicit, uses=uses, ambient_exclude=set(agent.ambient_exclude or ()))


@dataclass(frozen=True, kw_only=True)
class OfferedTool:
    """One tool of an agent's effective set, as the admin's panel and the API show it."""

    name: str  # the name the model sees
    tool_id: str
    source: str  # "explicit" (the allowlist), "toolkit" or "ambient"
    toolkit: str  # the toolkit it comes from ("" unless source is "toolkit")
    renamed_from: str  # the tool's own id when the model sees another name, else ""
    state: str  # "offered", "needs_approval" or "switched_off"


@dataclass(frozen=True, kw_only=True)
class EffectiveTools:
    tools: tuple[OfferedTool, ...]
    shadowed: tuple[str, ...]  # ambient tools left out: the agent has its own tool of that name
    excluded: tuple[str, ...]  # ambient tools the agent excludes
    clashes: tuple[str, ...]  # names two sources offer (the first one is kept)


def agent_effective_tools(agent: Agent, *, switched_off: set[str] | None = None) -> EffectiveTools:
    """The tools the agent's runs are offered, as saved, with where each comes from and its state
    (operator switches applied: a tool switched off is listed with state `switched_off`)."""
    from agents.tools.registry import registry

    composition = agent_tools_composition(agent)
    off = disabled_tool_ids() if switched_off is None else switched_off
    tools = []
    for tool in composition.tools:
        definition = registry.get(tool.tool_id)
        if tool.tool_id in off:
            state = "switched_off"
        elif definition is not None and (definition.may_need_approval or agent.require_approval):
            state = "needs_approval"
        else:
            state = "offered"
        tools.append(
            OfferedTool(
                name=tool.name,
                tool_id=tool.tool_id,
                source=tool.source,
                toolkit=tool.toolkit,
                renamed_from=tool.renamed_from,
                state=state,
            )
        )
    return EffectiveTools(
        tools=tuple(tools),
        shadowed=composition.shadowed,
        excluded=composition.excluded,
        clashes=composition.clashes,
    )


def disabled_tool_ids() -> set[str]:
    return set(Tool.objects.filter(enabled=False).values_list("id", flat=True))


def tool_list() -> QuerySet[Tool]:
    return Tool.objects.filter(in_code=True)


def tool_get(*, tool_id: str) -> Tool:
    tool = tool_list().filter(id=tool_id).first()
    if tool is None:
        raise NotFound(f"Tool {tool_id!r} not found.")
    return tool


def run_get(*, run_id: uuid.UUID | str, actor: Actor) -> Run:
    """A run the actor may read: its own, or any of its tenant's for a tenant admin; any other
    is "not found". A run this process just finished may still be queued to be written
    (`core.writebehind`): it is written before the answer is "not found"."""
    run = first_written(
        owned(Run.objects.select_related("agent").filter(id=run_id), actor, owner_field="user_id")
    )
    if run is None:
        raise NotFound("Run not found.")
    return run


def runs_completed_since(*, tenant_id: int, agent_slug: str, since: datetime, limit: int) -> QuerySet[Run]:
    """Completed runs of one agent in one tenant started at or after `since`, oldest first
    (for background work such as live scoring; not scoped to an owner)."""
    return Run.objects.filter(
        tenant_id=tenant_id, agent__slug=agent_slug, status=Run.Status.COMPLETED, created_at__gte=since
    ).order_by("created_at")[:limit]


def agent_version_diff(*, old: AgentVersion, new: AgentVersion) -> str:
    """A unified diff of two versions' configurations."""

    def lines(version: AgentVersion) -> list[str]:
        return json.dumps(version.config, indent=2, sort_keys=True, ensure_ascii=False).splitlines(
            keepends=True
        )

    return "".join(
        difflib.unified_diff(
            lines(old), lines(new), fromfile=f"version {old.number}", tofile=f"version {new.number}"
        )
    )
