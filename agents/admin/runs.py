"""Runs: a read-only record of every agent run, linked to its trace.

Apps above agents add sections to a run's page with `run_section_add` (evals shows the run's
scores and a "new eval case" link) without this module importing them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from agents.models import Run

RunSection = Callable[[Run], SafeString | str]
_sections: list[RunSection] = []


def run_section_add(section: RunSection) -> None:
    """Show `section(run)` on every run's admin page, under "More" (each section once)."""
    if section not in _sections:
        _sections.append(section)


@admin.register(Run)
class RunAdmin(admin.ModelAdmin[Run]):
    list_display = ("id", "agent", "status", "model", "tenant", "user", "created_at", "duration")
    list_filter = ("status", "agent")
    list_select_related = ("agent", "tenant", "user")
    search_fields = ("=id", "thread_id", "resource_id", "agent__slug")
    date_hierarchy = "created_at"
    fields = (
        "id",
        "agent",
        "agent_version",
        "status",
        "model",
        "tenant",
        "user",
        "thread_id",
        "resource_id",
        "idempotency_key",
        "steps",
        "created_at",
        "duration",
        "trace_link",
        "input_pretty",
        "result_pretty",
        "error_pretty",
        "usage_pretty",
        "sections",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Run | None = None) -> bool:
        return False

    @admin.display(description="Duration", ordering="duration_ms")
    def duration(self, obj: Run) -> str:
        return f"{obj.duration_ms / 1000:.2f} s" if obj.duration_ms >= 1000 else f"{obj.duration_ms:.0f} ms"

    @admin.display(description="Trace")
    def trace_link(self, obj: Run) -> SafeString | str:
        if obj.trace_id is None:
            return "—"
        url = reverse("admin:observability_trace_change", args=[obj.trace_id])
        return format_html('<a href="{}">{}</a>', url, obj.trace_id)

    @admin.display(description="Input")
    def input_pretty(self, obj: Run) -> SafeString | str:
        return pretty_json(obj.input)

    @admin.display(description="Result")
    def result_pretty(self, obj: Run) -> SafeString | str:
        return pretty_json(obj.result)

    @admin.display(description="Error")
    def error_pretty(self, obj: Run) -> SafeString | str:
        return pretty_json(obj.error)

    @admin.display(description="Usage")
    def usage_pretty(self, obj: Run) -> SafeString | str:
        return pretty_json(obj.usage)

    @admin.display(description="More")
    def sections(self, obj: Run) -> SafeString | str:
        parts = [section(obj) for section in _sections]
        return format_html_join("", "<div>{}</div>", ((part,) for part in parts if part)) or "—"
