"""Runs: a read-only record of every agent run, linked to its trace."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from agents.models import Run


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
