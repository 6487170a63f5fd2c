"""Tools (defined in code, switchable here) and model routes (operator switches per model or provider)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from agents.models import ModelRoute, Tool
from agents.services import (
    model_route_set_enabled,
    tool_set_approval_required,
    tool_set_enabled,
    tools_sync,
)


@admin.register(Tool)
class ToolAdmin(admin.ModelAdmin[Tool]):
    """Everything but the operator switches (`enabled`, `approval_required`) comes from code
    (`tools_sync`), so it is read-only here."""

    change_list_template = "admin/agents/tool/change_list.html"
    list_display = (
        "id",
        "label",
        "side_effect",
        "needs_approval",
        "approval_required",
        "timeout_s",
        "enabled",
        "in_code",
    )
    list_editable = ("enabled", "approval_required")
    list_filter = ("enabled", "side_effect", "needs_approval", "approval_required", "in_code")
    search_fields = ("id", "description", "label")
    actions = ("disable_tools", "enable_tools", "sync_tools")
    fields = (
        "id",
        "description",
        "label",
        "side_effect",
        "needs_approval",
        "approval_required",
        "timeout_s",
        "enabled",
        "in_code",
        "allowed_for",
        "input_schema_pretty",
        "output_schema_pretty",
        "updated_at",
    )
    readonly_fields = tuple(f for f in fields if f not in ("enabled", "approval_required"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Tool | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Tool, form: ModelForm[Tool], change: bool) -> None:
        tool_set_enabled(tool_id=obj.pk, enabled=obj.enabled)
        tool_set_approval_required(tool_id=obj.pk, required=obj.approval_required)

    @admin.display(description="Input schema")
    def input_schema_pretty(self, obj: Tool) -> SafeString | str:
        return pretty_json(obj.input_schema)

    @admin.display(description="Output schema")
    def output_schema_pretty(self, obj: Tool) -> SafeString | str:
        return pretty_json(obj.output_schema)

    @admin.display(description="Allowlisted by")
    def allowed_for(self, obj: Tool) -> SafeString | str:
        agents = list(obj.agents.order_by("slug").values_list("pk", "slug"))
        if not agents:
            return "—"
        return format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            ((reverse("admin:agents_agent_change", args=[pk]), slug) for pk, slug in agents),
        )

    @admin.action(description="Disable selected tools (refuse every call at once)", permissions=["change"])
    def disable_tools(self, request: HttpRequest, queryset: QuerySet[Tool]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    @admin.action(description="Enable selected tools", permissions=["change"])
    def enable_tools(self, request: HttpRequest, queryset: QuerySet[Tool]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    @admin.action(description="Sync tools from code", permissions=["change"])
    def sync_tools(self, request: HttpRequest, queryset: QuerySet[Tool]) -> None:
        self._sync(request)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[Tool], *, enabled: bool) -> None:
        count = sum(
            tool_set_enabled(tool_id=pk, enabled=enabled) for pk in queryset.values_list("pk", flat=True)
        )
        self.message_user(
            request, f"{count} tool(s) {'enabled' if enabled else 'disabled'}.", messages.SUCCESS
        )

    def _sync(self, request: HttpRequest) -> None:
        synced = tools_sync()
        stale = Tool.objects.filter(in_code=False).count()
        text = f"Synced {len(synced)} tool(s) from code."
        if stale:
            text += f" {stale} tool(s) are no longer defined in code (marked 'in code: no')."
        self.message_user(request, text, messages.SUCCESS)

    def get_urls(self) -> list[URLPattern]:
        return [
            path("sync/", self.admin_site.admin_view(self.sync_view), name="agents_tool_sync"),
            *super().get_urls(),
        ]

    def sync_view(self, request: HttpRequest) -> HttpResponse:
        """The changelist's "Sync tools from code" button: an action that needs no selection."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        self._sync(request)
        return HttpResponseRedirect(reverse("admin:agents_tool_changelist"))


@admin.register(ModelRoute)
class ModelRouteAdmin(admin.ModelAdmin[ModelRoute]):
    """Switch a model (`provider/model`) or a whole provider (`provider/*`) off for every agent at once."""

    list_display = ("model", "enabled", "note")
    list_editable = ("enabled",)
    list_filter = ("enabled",)
    search_fields = ("model", "note")
    actions = ("disable_routes", "enable_routes")

    def get_readonly_fields(self, request: HttpRequest, obj: ModelRoute | None = None) -> tuple[str, ...]:
        return ("model",) if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: ModelRoute, form: ModelForm[ModelRoute], change: bool
    ) -> None:
        route = model_route_set_enabled(model=obj.model, enabled=obj.enabled, note=obj.note)
        obj.pk = route.pk

    @admin.action(description="Disable selected models", permissions=["change"])
    def disable_routes(self, request: HttpRequest, queryset: QuerySet[ModelRoute]) -> None:
        self._set_enabled(request, queryset, enabled=False)

    @admin.action(description="Enable selected models", permissions=["change"])
    def enable_routes(self, request: HttpRequest, queryset: QuerySet[ModelRoute]) -> None:
        self._set_enabled(request, queryset, enabled=True)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[ModelRoute], *, enabled: bool) -> None:
        routes: list[Any] = list(queryset)
        for route in routes:
            model_route_set_enabled(model=route.model, enabled=enabled, note=route.note)
        self.message_user(
            request, f"{len(routes)} model(s) {'enabled' if enabled else 'disabled'}.", messages.SUCCESS
        )
