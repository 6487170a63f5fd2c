"""Agent admin: versioned saves, switches that act at once, version history with diff and rollback."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from agents.admin import versions
from agents.admin.forms import AgentAdminForm
from agents.admin.toolkits import AgentToolkitInline, effective_tools_panel
from agents.instructions import DEFAULT_STYLE_INSTRUCTIONS
from agents.models import Agent
from agents.services import agent_set_enabled, agent_version_record
from memory.config import MemoryConfig
from memory.services.working_memory import working_memory_render

RECENT_VERSIONS = 5


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin[Agent]):
    form = AgentAdminForm
    list_display = ("slug", "name", "model", "enabled", "version", "tenant", "updated_at")
    list_filter = ("enabled", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("slug", "name", "model")
    filter_horizontal = ("tools",)
    readonly_fields = (
        "version",
        "created_at",
        "updated_at",
        "recent_versions",
        "default_style",
        "memory_preview",
        "effective_tools",
    )
    inlines = (AgentToolkitInline,)
    actions = ("disable_agents", "enable_agents")
    fieldsets = (
        (None, {"fields": ("slug", "name", "description", "tenant", "enabled")}),
        (
            "Instructions",
            {
                "fields": ("instructions", "style", "style_instructions", "default_style"),
                "description": "The style guardrails are appended to the instructions of every run.",
            },
        ),
        (
            "Model",
            {"fields": ("model", "fallback_models", "model_settings", "allow_model_override", "max_steps")},
        ),
        (
            "Tools",
            {
                "fields": (
                    "tools",
                    "ambient_exclude",
                    "require_approval",
                    "auto_resume_suspended_tools",
                    "effective_tools",
                )
            },
        ),
        (
            "Memory",
            {
                "fields": (
                    "memory_enabled",
                    "memory_last_messages",
                    "memory_token_limit",
                    "memory_drop_tool_calls",
                    "memory_generate_titles",
                    "memory_recall",
                    ("memory_recall_top_k", "memory_recall_message_range"),
                    ("memory_recall_scope", "memory_recall_index"),
                    "memory_wm_format",
                    ("memory_wm_scope", "memory_wm_max_chars"),
                    "memory_wm_template",
                    "memory_wm_schema",
                    "memory_preview",
                ),
                "description": "Memory is on for every agent unless switched off. Messages are embedded "
                "only in threads where an agent with semantic recall takes part.",
            },
        ),
        ("Request context", {"fields": ("request_context_schema",)}),
        ("Version", {"fields": ("version_note", "version", "recent_versions", "created_at", "updated_at")}),
    )

    def get_fieldsets(self, request: HttpRequest, obj: Agent | None = None) -> Any:
        if obj is None:  # nothing to show about versions before the first save
            return [*self.fieldsets[:-1], ("Version", {"fields": ("version_note",)})]
        return self.fieldsets

    def save_related(self, request: HttpRequest, form: ModelForm[Agent], formsets: Any, change: bool) -> None:
        """Record the version only now, so the snapshot includes the tool allowlist just saved."""
        super().save_related(request, form, formsets, change)
        user = request.user if request.user.is_authenticated else None
        agent_version_record(agent=form.instance, user=user, note=form.cleaned_data.get("version_note", ""))

    @admin.action(description="Disable selected agents (refuse new runs at once)", permissions=["change"])
    def disable_agents(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    @admin.action(description="Enable selected agents", permissions=["change"])
    def enable_agents(self, request: HttpRequest, queryset: QuerySet[Agent]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Agent], *, enabled: bool) -> None:
        user = request.user if request.user.is_authenticated else None
        changed = [a for a in queryset if a.enabled != enabled]
        for agent in changed:
            agent_set_enabled(agent=agent, enabled=enabled, user=user)
        state = "enabled" if enabled else "disabled"
        self.message_user(request, f"{len(changed)} agent(s) {state}.", messages.SUCCESS)

    @admin.display(description="The default set")
    def default_style(self, obj: Agent | None) -> SafeString:
        return format_html("<pre style='white-space: pre-wrap'>{}</pre>", DEFAULT_STYLE_INSTRUCTIONS)

    @admin.display(description="Effective tools")
    def effective_tools(self, obj: Agent) -> SafeString | str:
        return effective_tools_panel(obj)

    @admin.display(description="Working memory preview")
    def memory_preview(self, obj: Agent | None) -> SafeString | str:
        """What the model is shown before the first update, for the saved settings."""
        try:
            wm = MemoryConfig.model_validate(obj.memory if obj is not None else {}).working_memory
        except (ValueError, TypeError):
            return "The stored memory settings are invalid; save valid ones to see the preview."
        if wm is None or not wm.enabled:
            return "Working memory is off."
        return format_html(
            "<pre style='white-space: pre-wrap'>{}</pre>", working_memory_render(config=wm, row=None)
        )

    @admin.display(description="Recent versions")
    def recent_versions(self, obj: Agent) -> SafeString | str:
        if obj.pk is None:
            return "Version 1 is written when you save."
        rows = list(obj.versions.select_related("created_by").order_by("-number")[:RECENT_VERSIONS])
        diff_url = reverse("admin:agents_agent_version_diff", args=[obj.pk])
        body = format_html_join(
            "",
            "<tr><td>v{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    v.number,
                    v.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    v.created_by or "—",
                    v.note or "",
                    format_html(
                        '<a href="{}?{}">diff with v{}</a>',
                        diff_url,
                        urlencode({"old": v.number - 1, "new": v.number}),
                        v.number - 1,
                    )
                    if v.number > 1
                    else "",
                )
                for v in rows
            ),
        )
        return format_html(
            "<table><tr><th>Version</th><th>Saved</th><th>By</th><th>Note</th><th></th></tr>{}</table>"
            '<p><a href="{}">All versions, compare and roll back →</a></p>',
            body,
            reverse("admin:agents_agent_versions", args=[obj.pk]),
        )

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("<int:object_id>/versions/", view(self.versions_view), name="agents_agent_versions"),
            path(
                "<int:object_id>/versions/diff/",
                view(self.version_diff_view),
                name="agents_agent_version_diff",
            ),
            path(
                "<int:object_id>/versions/<int:number>/rollback/",
                view(self.rollback_view),
                name="agents_agent_rollback",
            ),
            *super().get_urls(),
        ]

    def versions_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return versions.version_list(self, request, object_id)

    def version_diff_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        return versions.version_diff(self, request, object_id)

    def rollback_view(self, request: HttpRequest, object_id: int, number: int) -> HttpResponse:
        return versions.rollback(self, request, object_id, number)
