"""The agent's toolkits in the admin: an inline with validated fields, and the effective tools panel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents.models import Agent, AgentToolkit
from agents.selectors import agent_effective_tools
from agents.tools.toolkits import ToolkitUse, ambient_tools, toolkit_use_problems, toolkits


def _toolkit_choices() -> list[tuple[str, str]]:
    return [("", "---------")] + [(t.name, f"{t.name} ({', '.join(t.tool_ids)})") for t in toolkits.all()]


def ambient_choices() -> list[tuple[str, str]]:
    return [(t.id, f"{t.id}: {t.description}") for t in ambient_tools()]


def _names(text: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in text.replace("\n", ",").split(",") if n.strip()))


class AgentToolkitForm(forms.ModelForm[AgentToolkit]):
    """Tool names as comma-separated text and renames as `old=new` lines, checked against the toolkit."""

    toolkit = forms.ChoiceField(choices=_toolkit_choices)
    only = forms.CharField(
        required=False, help_text="Comma-separated tool ids to keep (empty: all).", max_length=2000
    )
    exclude = forms.CharField(
        required=False, label="Except", help_text="Comma-separated tool ids to leave out.", max_length=2000
    )
    rename = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 30}),
        help_text="One <code>tool_id=new_name</code> per line; wins over the prefix.",
        max_length=4000,
    )

    class Meta:
        model = AgentToolkit
        fields = ("position", "toolkit", "only", "exclude", "prefix", "rename")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        row = self.instance
        if row.pk is not None and not self.is_bound:
            self.initial["only"] = ", ".join(row.only or ())
            self.initial["exclude"] = ", ".join(row.exclude or ())
            self.initial["rename"] = "\n".join(f"{k}={v}" for k, v in (row.rename or {}).items())

    def clean_only(self) -> list[str]:
        return list(_names(self.cleaned_data.get("only") or ""))

    def clean_exclude(self) -> list[str]:
        return list(_names(self.cleaned_data.get("exclude") or ""))

    def clean_rename(self) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for line in (self.cleaned_data.get("rename") or "").splitlines():
            if not line.strip():
                continue
            old, sep, new = line.partition("=")
            if not sep or not old.strip() or not new.strip():
                raise forms.ValidationError(f"Write each rename as tool_id=new_name, not {line.strip()!r}.")
            pairs[old.strip()] = new.strip()
        return pairs

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors or not data.get("toolkit") or data.get("DELETE"):
            return data
        use = ToolkitUse(
            toolkit=data["toolkit"],
            only=tuple(data.get("only") or ()),
            exclude=tuple(data.get("exclude") or ()),
            prefix=data.get("prefix") or "",
            rename=data.get("rename") or {},
        )
        for key, messages in toolkit_use_problems(use).items():
            self.add_error("exclude" if key == "except" else key, messages)
        return data


class AgentToolkitInline(admin.TabularInline[AgentToolkit, Agent]):
    model = AgentToolkit
    form = AgentToolkitForm
    extra = 0
    verbose_name = "toolkit"
    verbose_name_plural = "Toolkits (tools composed from toolkits, after the allowlist above)"


_SOURCES = {"explicit": "allowlist", "ambient": "ambient (offered to every agent)"}
_STATES = {
    "offered": "offered",
    "needs_approval": "offered; calls wait for a person's approval",
    "switched_off": "not offered: switched off by an operator",
}


def effective_tools_panel(agent: Agent) -> SafeString | str:
    """A table of the tools the agent's runs are offered, as saved, with where each comes from
    (the same rows as the API's `effectiveTools`)."""
    if agent.pk is None:
        return "Shown after the first save."
    composition = agent_effective_tools(agent)
    rows = [
        (
            tool.name,
            _SOURCES.get(tool.source) or f"toolkit {tool.toolkit}",
            tool.renamed_from or "—",
            _STATES[tool.state],
        )
        for tool in composition.tools
    ]
    notes = [
        *(f"Ambient tool {name} is excluded for this agent." for name in composition.excluded),
        *(
            f"Ambient tool {name} is shadowed by the agent's own tool of that name."
            for name in composition.shadowed
        ),
        *(f"Two sources offer {name}: the first one listed is kept." for name in composition.clashes),
    ]
    body = format_html_join(
        "", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
    ) or format_html("<tr><td colspan=4>{}</td></tr>", "No tools.")
    return format_html(
        '<table class="effective-tools"><tr><th>Tool (name the model sees)</th><th>From</th>'
        "<th>Renamed from</th><th>State</th></tr>{}</table>{}",
        body,
        format_html_join("", "<p>{}</p>", ((n,) for n in notes)),
    )
