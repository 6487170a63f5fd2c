"""Toolkits: named groups of tools an agent composes its allowlist from, and ambient tools.

Each app that ships tools registers a toolkit for them (the built-in ones: `agents`,
`memory`, `workspace`); any installed app may register its own in its `tools.py`:

    toolkit_register(name="crm", tools=[crm_lookup, crm_update], description="The CRM")

An agent uses a toolkit with options, as AppKit's `ToolkitOptions`:

    ToolkitUse(toolkit="memory", only=("knowledge_search",), prefix="mem_")
    ToolkitUse(toolkit="agents", exclude=("convert_units",), rename={"current_time": "clock"})

`only` and `exclude` name the toolkit's own tool ids; each kept tool is offered as
`rename[id]` if given, else `prefix + id`. Ambient tools (`@tool(ambient=True)`, such as
`render_data`) are offered to every agent, unless the agent excludes them or shadows
them with a tool of its own under the same name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.tools.registry import ToolDefinition, ToolDefinitionError, registry

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # the model API's rule for a tool name
_TOOLKIT = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")

Source = Literal["explicit", "toolkit", "ambient"]


@dataclass(frozen=True, kw_only=True)
class Toolkit:
    name: str
    tool_ids: tuple[str, ...]
    description: str = ""


class ToolkitRegistry:
    def __init__(self) -> None:
        self._toolkits: dict[str, Toolkit] = {}

    def register(self, toolkit: Toolkit) -> None:
        self._toolkits[toolkit.name] = toolkit

    def get(self, name: str) -> Toolkit | None:
        return self._toolkits.get(name)

    def all(self) -> list[Toolkit]:
        return sorted(self._toolkits.values(), key=lambda t: t.name)

    def unregister(self, name: str) -> None:
        self._toolkits.pop(name, None)


toolkits = ToolkitRegistry()


def toolkit_register(*, name: str, tools: Iterable[ToolDefinition | str], description: str = "") -> Toolkit:
    """Register (or replace) the toolkit `name` holding `tools` (definitions or tool ids)."""
    if not _TOOLKIT.match(name):
        raise ToolDefinitionError(f"Toolkit name {name!r} must match {_TOOLKIT.pattern}.")
    ids = tuple(t.id if isinstance(t, ToolDefinition) else t for t in tools)
    toolkit = Toolkit(name=name, tool_ids=ids, description=description)
    toolkits.register(toolkit)
    return toolkit


@dataclass(frozen=True, kw_only=True)
class ToolkitUse:
    """One toolkit in an agent's composition, with AppKit's options (`exclude` is `except`)."""

    toolkit: str
    only: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    prefix: str = ""
    rename: Mapping[str, str] = field(default_factory=dict)

    def offered(self) -> list[tuple[str, str]]:
        """(offered name, tool id) for each tool this use keeps, in the toolkit's order."""
        toolkit = toolkits.get(self.toolkit)
        if toolkit is None:
            return []
        kept = [t for t in toolkit.tool_ids if (not self.only or t in self.only) and t not in self.exclude]
        return [(self.rename.get(t) or f"{self.prefix}{t}", t) for t in kept]

    def to_config(self) -> dict[str, Any]:
        return {
            "toolkit": self.toolkit,
            "only": list(self.only),
            "except": list(self.exclude),
            "prefix": self.prefix,
            "rename": dict(self.rename),
        }

    @classmethod
    def from_config(cls, value: Mapping[str, Any]) -> ToolkitUse:
        return cls(
            toolkit=str(value.get("toolkit", "")),
            only=tuple(value.get("only") or ()),
            exclude=tuple(value.get("except") or ()),
            prefix=str(value.get("prefix") or ""),
            rename=dict(value.get("rename") or {}),
        )


def toolkit_use_problems(use: ToolkitUse) -> dict[str, list[str]]:
    """What is wrong with one use, by field (`toolkit`, `only`, `except`, `prefix`, `rename`)."""
    toolkit = toolkits.get(use.toolkit)
    if toolkit is None:
        known = ", ".join(t.name for t in toolkits.all()) or "none"
        return {"toolkit": [f"Unknown toolkit {use.toolkit!r}; registered: {known}."]}
    problems: dict[str, list[str]] = {}
    for key, names in (("only", use.only), ("except", use.exclude), ("rename", tuple(use.rename))):
        unknown = [n for n in names if n not in toolkit.tool_ids]
        if unknown:
            problems.setdefault(key, []).append(
                f"Not in toolkit {toolkit.name!r}: {', '.join(unknown)} (it has {', '.join(toolkit.tool_ids)})."
            )
    if use.prefix and not _NAME.match(f"{use.prefix}x"):
        problems.setdefault("prefix", []).append("Use letters, digits, _ or - only.")
    bad = [n for n in use.rename.values() if not _NAME.match(n)]
    if bad:
        problems.setdefault("rename", []).append(
            f"Not a valid tool name: {', '.join(bad)} (letters, digits, _ or -, at most 64)."
        )
    too_long = [name for name, _ in use.offered() if not _NAME.match(name)]
    if too_long and "prefix" not in problems and "rename" not in problems:
        problems.setdefault("prefix", []).append(f"Names over 64 characters: {', '.join(too_long)}.")
    return problems


@dataclass(frozen=True, kw_only=True)
class EffectiveTool:
    """A tool an agent is offered: its name for the model, the tool behind it, and why."""

    name: str
    tool_id: str
    source: Source
    toolkit: str = ""

    @property
    def renamed_from(self) -> str:
        return self.tool_id if self.tool_id != self.name else ""


@dataclass(frozen=True, kw_only=True)
class Composition:
    tools: tuple[EffectiveTool, ...]
    shadowed: tuple[str, ...]  # ambient tools not offered because the agent has its own of that name
    excluded: tuple[str, ...]  # ambient tools the agent excludes
    clashes: tuple[str, ...]  # names two sources offer (the first one wins)


def ambient_tools() -> list[ToolDefinition]:
    return [t for t in registry.all() if t.ambient]


def tools_compose(
    *, explicit: Sequence[str], uses: Sequence[ToolkitUse], ambient_exclude: Collection[str]
) -> Composition:
    """The agent's tools: the explicit allowlist, then each toolkit use in order, then ambient tools.

    A name offered twice keeps its first tool (`clashes` lists it); a tool not in the
    registry is left out. Operator switches (a tool switched off) are applied by the caller.
    """
    chosen: dict[str, EffectiveTool] = {}
    clashes: list[str] = []

    def offer(tool: EffectiveTool) -> None:
        if registry.get(tool.tool_id) is None:
            return
        if tool.name in chosen:
            clashes.append(tool.name)
            return
        chosen[tool.name] = tool

    for tool_id in explicit:
        offer(EffectiveTool(name=tool_id, tool_id=tool_id, source="explicit"))
    for use in uses:
        for name, tool_id in use.offered():
            offer(EffectiveTool(name=name, tool_id=tool_id, source="toolkit", toolkit=use.toolkit))
    shadowed, excluded = [], []
    for definition in ambient_tools():
        if definition.id in ambient_exclude:
            excluded.append(definition.id)
        elif definition.id in chosen:
            if chosen[definition.id].tool_id != definition.id:
                shadowed.append(definition.id)
        else:
            chosen[definition.id] = EffectiveTool(name=definition.id, tool_id=definition.id, source="ambient")
    return Composition(
        tools=tuple(chosen.values()),
        shadowed=tuple(shadowed),
        excluded=tuple(excluded),
        clashes=tuple(dict.fromkeys(clashes)),
    )
