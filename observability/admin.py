"""Admin: traces with their spans as a timeline.

Apps above observability add sections to a trace's page with `trace_section_add` (evals
shows the scores of the trace's run and a "new eval case" link) without this module importing them.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.contrib import admin
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from observability.models import Span, Trace

TraceSection = Callable[[Trace], SafeString | str]
_sections: list[TraceSection] = []


def trace_section_add(section: TraceSection) -> None:
    """Show `section(trace)` on every trace's admin page, under "More" (each section once)."""
    if section not in _sections:
        _sections.append(section)


@admin.register(Trace)
class TraceAdmin(admin.ModelAdmin[Trace]):
    list_display = ("name", "id", "tenant", "status", "duration_ms", "started_at")
    list_filter = ("status", "name")
    search_fields = ("id", "name")
    readonly_fields = (
        "id",
        "tenant",
        "name",
        "started_at",
        "duration",
        "status",
        "attributes_json",
        "sections",
        "timeline",
    )
    fields = readonly_fields

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    @admin.display(description="Duration")
    def duration(self, obj: Trace) -> str:
        return f"{obj.duration_ms:.2f} ms"

    @admin.display(description="Attributes")
    def attributes_json(self, obj: Trace) -> SafeString:
        return format_html("<code>{}</code>", json.dumps(obj.attributes, ensure_ascii=False, default=str))

    @admin.display(description="More")
    def sections(self, obj: Trace) -> SafeString | str:
        parts = [section(obj) for section in _sections]
        return format_html_join("", "<div>{}</div>", ((part,) for part in parts if part)) or "—"

    @admin.display(description="Timeline")
    def timeline(self, obj: Trace) -> SafeString:
        spans = list(obj.spans.order_by("seq"))
        total = max(obj.duration_ms, 0.001)
        depth: dict[object, int] = {}
        rows = []
        for span in spans:
            level = depth.get(span.parent_id, -1) + 1
            depth[span.id] = level
            offset = (span.started_at - obj.started_at).total_seconds() * 1000
            left = max(0.0, min(100.0, offset / total * 100))
            width = max(0.5, min(100.0 - left, span.duration_ms / total * 100))
            colour = "#c0392b" if span.status == "error" else "#2e86c1"
            rows.append(
                (
                    level * 16,
                    span.kind,
                    span.name,
                    f"{span.duration_ms:.2f}",
                    f"{left:.2f}",
                    f"{width:.2f}",
                    colour,
                    span.error or "",
                    json.dumps(span.attributes, ensure_ascii=False, default=str),
                )
            )
        body = format_html_join(
            "",
            '<tr><td style="padding-left:{}px">{} <b>{}</b></td><td>{} ms</td>'
            '<td style="width:40%"><div style="margin-left:{}%;width:{}%;background:{};height:10px"></div></td>'
            "<td>{}</td><td><code>{}</code></td></tr>",
            rows,
        )
        return format_html(
            '<table style="width:100%"><tr><th>Span</th><th>Duration</th><th>Timeline</th><th>Error</th>'
            "<th>Attributes</th></tr>{}</table>",
            body,
        )


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin[Span]):
    list_display = ("name", "kind", "status", "duration_ms", "trace")
    list_filter = ("kind", "status")
    search_fields = ("name", "trace__id")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
