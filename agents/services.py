"""Writes for agent definitions: versioned saves, rollback, switches, tool sync."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from agents.models import Agent, AgentToolkit, AgentVersion, ModelRoute, Tool
from agents.runtime.spec import agent_config_changed
from agents.tools.registry import registry
from agents.tools.toolkits import ToolkitUse, ambient_tools, toolkit_use_problems
from core.errors import NotFound, ValidationFailed

# The fields a version captures; the tool allowlist is captured as `tools`, the toolkit
# uses as `toolkits`.
VERSIONED_FIELDS = (
    "name",
    "description",
    "instructions",
    "style",
    "style_instructions",
    "model",
    "fallback_models",
    "model_settings",
    "allow_model_override",
    "max_steps",
    "require_approval",
    "auto_resume_suspended_tools",
    "ambient_exclude",
    "memory",
    "request_context_schema",
    "enabled",
)


def agent_snapshot(agent: Agent) -> dict[str, Any]:
    config = {name: getattr(agent, name) for name in VERSIONED_FIELDS}
    config["tools"] = sorted(agent.tools.values_list("id", flat=True))
    config["toolkits"] = [
        {"toolkit": k.toolkit, "only": k.only, "except": k.exclude, "prefix": k.prefix, "rename": k.rename}
        for k in agent.toolkit_uses.all()
    ]
    return config


def agent_toolkits_check(*, toolkits: Sequence[ToolkitUse], ambient_exclude: Sequence[str]) -> None:
    """Raise ValidationFailed naming each unknown toolkit, tool or ambient tool, by position."""
    details: dict[str, object] = {}
    for index, use in enumerate(toolkits):
        problems = toolkit_use_problems(use)
        if problems:
            details[f"toolkits.{index}"] = problems
    ambient = {t.id for t in ambient_tools()}
    unknown = [name for name in ambient_exclude if name not in ambient]
    if unknown:
        details["ambientExclude"] = [f"Not an ambient tool: {', '.join(unknown)}."]
    if details:
        raise ValidationFailed("The agent's toolkits are invalid.", details=details)


def _toolkits_set(agent: Agent, toolkits: Sequence[ToolkitUse]) -> None:
    AgentToolkit.objects.filter(agent=agent).delete()
    AgentToolkit.objects.bulk_create(
        AgentToolkit(
            agent=agent,
            position=index,
            toolkit=use.toolkit,
            only=list(use.only),
            exclude=list(use.exclude),
            prefix=use.prefix,
            rename=dict(use.rename),
        )
        for index, use in enumerate(toolkits)
    )


@transaction.atomic
def agent_version_record(
    *, agent: Agent, user: AbstractBaseUser | None = None, note: str = ""
) -> AgentVersion:
    """Write an immutable version of the agent as it is now (call after every save, allowlist included)."""
    Agent.objects.filter(pk=agent.pk).update(version=F("version") + 1)
    agent_config_changed()  # QuerySet.update sends no signal
    agent.refresh_from_db(fields=["version"])
    return AgentVersion.objects.create(
        agent=agent,
        number=agent.version,
        config=agent_snapshot(agent),
        created_by_id=user.pk if user is not None else None,
        note=note,
    )


@transaction.atomic
def agent_save(
    *,
    slug: str,
    tools: list[str] | None = None,
    toolkits: Sequence[ToolkitUse] | None = None,
    user: AbstractBaseUser | None = None,
    note: str = "",
    **fields: Any,
) -> Agent:
    """Create or update an agent and write a version. `tools` replaces the allowlist of single
    tools and `toolkits` the toolkit uses (each left as it is when None)."""
    unknown = set(fields) - set(VERSIONED_FIELDS) - {"tenant", "tenant_id"}
    if unknown:
        raise TypeError(f"Unknown agent fields: {sorted(unknown)}")
    agent_toolkits_check(toolkits=toolkits or (), ambient_exclude=fields.get("ambient_exclude") or ())
    agent, _ = Agent.objects.update_or_create(slug=slug, defaults=fields)
    if tools is not None:
        agent.tools.set(Tool.objects.filter(id__in=tools))
    if toolkits is not None:
        _toolkits_set(agent, toolkits)
    agent_version_record(agent=agent, user=user, note=note)
    return agent


@transaction.atomic
def agent_rollback(*, agent: Agent, number: int, user: AbstractBaseUser | None = None) -> AgentVersion:
    """Restore the configuration of version `number`, except the enabled switch; this writes a
    new version (history stays linear)."""
    version = AgentVersion.objects.filter(agent=agent, number=number).first()
    if version is None:
        raise NotFound(f"Agent {agent.slug!r} has no version {number}.")
    config = dict(version.config)
    tools = config.pop("tools", [])
    toolkits = [ToolkitUse.from_config(use) for use in config.pop("toolkits", [])]
    # The enabled switch is an operator's, not part of the configuration restored: a
    # rollback never turns a disabled agent back on (nor an enabled one off).
    restored = {k: v for k, v in config.items() if k in VERSIONED_FIELDS and k != "enabled"}
    Agent.objects.filter(pk=agent.pk).update(**restored)
    agent.refresh_from_db()
    agent.tools.set(Tool.objects.filter(id__in=tools))
    _toolkits_set(agent, toolkits)
    return agent_version_record(agent=agent, user=user, note=f"Rolled back to version {number}")


def agent_set_enabled(*, agent: Agent, enabled: bool, user: AbstractBaseUser | None = None) -> Agent:
    agent.enabled = enabled
    agent.save(update_fields=["enabled", "updated_at"])
    agent_version_record(agent=agent, user=user, note="Enabled" if enabled else "Disabled")
    return agent


def tool_set_enabled(*, tool_id: str, enabled: bool) -> int:
    changed = Tool.objects.filter(id=tool_id).update(enabled=enabled)
    agent_config_changed()
    return changed


def tool_set_approval_required(*, tool_id: str, required: bool) -> int:
    """The operator's approval switch for one tool: every call waits for a person when on."""
    changed = Tool.objects.filter(id=tool_id).update(approval_required=required)
    agent_config_changed()
    return changed


def model_route_set_enabled(*, model: str, enabled: bool, note: str = "") -> ModelRoute:
    route, _ = ModelRoute.objects.update_or_create(model=model, defaults={"enabled": enabled, "note": note})
    return route


@transaction.atomic
def tools_sync() -> list[str]:
    """Upsert every code-defined tool; mark tools the code no longer defines. Operator switches are kept."""
    seen = []
    for definition in registry.all():
        Tool.objects.update_or_create(
            id=definition.id,
            defaults={
                "description": definition.description,
                "label": definition.label,
                "side_effect": definition.side_effect,
                "needs_approval": definition.may_need_approval,
                "timeout_s": definition.timeout_s,
                "input_schema": definition.input_schema,
                "output_schema": definition.output_schema,
                "in_code": True,
            },
        )
        seen.append(definition.id)
    Tool.objects.exclude(id__in=seen).update(in_code=False)
    agent_config_changed()
    return seen
