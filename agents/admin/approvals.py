"""Pending approvals: the tool calls runs wait on, approved or declined by an operator.

The list opens on the calls still waiting (every tenant's, with a tenant filter, like
the rest of the admin; suspensions waiting for resume data are listed too, by kind). The actions call the runs services as the tenant's
admin (the operator is recorded as the decider); a decision that leaves nothing of its run
waiting hands the run to a worker, which continues it (`agents.tasks.run_continue`).
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from agents.models import ToolCallGate
from agents.runs.services import tool_call_decide
from agents.tasks import run_continue_enqueue
from core.access import Actor
from core.errors import PlatformError


class StatusFilter(admin.SimpleListFilter):
    """By status; with no choice made, the calls still waiting (the list's purpose)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [*ToolCallGate.Status.choices, ("all", "All")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ToolCallGate]) -> QuerySet[ToolCallGate]:
        value = self.value() or ToolCallGate.Status.PENDING
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist: Any) -> Any:
        current = self.value() or ToolCallGate.Status.PENDING
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }


class DecisionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=2000,
        label="Reason",
        help_text="Given to the model with a declined call.",
    )


@admin.register(ToolCallGate)
class ToolCallGateAdmin(admin.ModelAdmin[ToolCallGate]):
    list_display = (
        "tool_name",
        "arguments",
        "status",
        "kind",
        "agent",
        "run_link",
        "owner",
        "tenant",
        "created_at",
        "expires_at",
    )
    list_filter = (StatusFilter, "kind", "tenant")
    list_select_related = ("run__agent", "owner", "tenant")
    search_fields = ("=run__id", "tool_call_id", "tool_name", "run__thread_id")
    action_form = DecisionForm
    actions = ("approve_calls", "decline_calls")
    fields = (
        "tool_name",
        "tool_call_id",
        "kind",
        "status",
        "run_link",
        "agent",
        "owner",
        "tenant",
        "input_pretty",
        "args_hash",
        "suspend_payload_pretty",
        "reason",
        "decided_by",
        "decided_at",
        "created_at",
        "expires_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ToolCallGate | None = None) -> bool:
        return False  # decided through the actions only, never edited

    def has_delete_permission(self, request: HttpRequest, obj: ToolCallGate | None = None) -> bool:
        return False

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("agents.change_toolcallgate")

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return super().changelist_view(request, {"title": "Pending approvals", **(extra_context or {})})

    @admin.action(description="Approve selected calls (their runs continue)", permissions=["decide"])
    def approve_calls(self, request: HttpRequest, queryset: QuerySet[ToolCallGate]) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Decline selected calls (with the reason above)", permissions=["decide"])
    def decline_calls(self, request: HttpRequest, queryset: QuerySet[ToolCallGate]) -> None:
        self._decide(request, queryset, approve=False)

    def _decide(self, request: HttpRequest, queryset: QuerySet[ToolCallGate], *, approve: bool) -> None:
        reason = str(request.POST.get("reason", "")).strip()[:2000]
        decided, continued = 0, 0
        for gate in queryset.select_related("run__agent").order_by("created_at"):
            # The operator decides as an admin of the call's tenant, and is recorded as the decider.
            actor = Actor(tenant_id=gate.tenant_id, user_id=request.user.pk, is_tenant_admin=True)
            try:
                decision = tool_call_decide(
                    actor=actor,
                    agent_id=gate.run.agent.slug,
                    run_id=gate.run_id,
                    tool_call_id=gate.tool_call_id,
                    approve=approve,
                    reason=reason,
                )
            except PlatformError as error:
                self.message_user(
                    request, f"{gate.tool_name} ({gate.tool_call_id}): {error.message}", messages.WARNING
                )
                continue
            decided += 1
            if decision.ready:
                run_continue_enqueue(run_id=str(decision.run_id), gate=decision.gate)
                continued += 1
        if decided:
            verb = "approved" if approve else "declined"
            self.message_user(
                request,
                f"{decided} call(s) {verb}; {continued} run(s) continue on a worker, "
                f"{decided - continued} still wait on other calls.",
                messages.SUCCESS,
            )

    @admin.display(description="Arguments")
    def arguments(self, obj: ToolCallGate) -> str:
        text = json.dumps(obj.input, ensure_ascii=False, sort_keys=True)
        return text if len(text) <= 120 else text[:117] + "…"

    @admin.display(description="Agent", ordering="run__agent__slug")
    def agent(self, obj: ToolCallGate) -> str:
        return obj.run.agent.slug

    @admin.display(description="Run")
    def run_link(self, obj: ToolCallGate) -> SafeString:
        url = reverse("admin:agents_run_change", args=[obj.run_id])
        return format_html('<a href="{}">{}</a>', url, obj.run_id)

    @admin.display(description="Arguments")
    def input_pretty(self, obj: ToolCallGate) -> SafeString | str:
        return pretty_json(obj.input)

    @admin.display(description="Suspend payload")
    def suspend_payload_pretty(self, obj: ToolCallGate) -> SafeString | str:
        return pretty_json(obj.suspend_payload)
