"""Live scoring: the per-agent sampling configuration and the scores it produced."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString

from core.access import Actor
from core.errors import PlatformError
from evals.admin.links import run_links, trace_link
from evals.models import LiveScore, LiveScoring
from evals.services.live import live_scoring_set
from evals.validation import scorers_validate


class LiveScoringForm(forms.ModelForm[LiveScoring]):
    class Meta:
        model = LiveScoring
        fields = ("tenant", "agent_slug", "sample_rate", "scorers", "enabled")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            scorers_validate(data.get("scorers"))
        except PlatformError as error:
            self.add_error("scorers", f"{error.message} {error.details}")
        rate = data.get("sample_rate")
        if rate is not None and not 0 <= rate <= 1:
            self.add_error("sample_rate", "A number from 0 to 1.")
        return data


@admin.register(LiveScoring)
class LiveScoringAdmin(admin.ModelAdmin[LiveScoring]):
    form = LiveScoringForm
    list_display = ("agent_slug", "tenant", "sample_rate", "enabled", "created_at")

    def save_model(self, request: HttpRequest, obj: LiveScoring, form: Any, change: bool) -> None:
        saved = live_scoring_set(
            actor=Actor.system(tenant_id=obj.tenant_id),
            agent_id=obj.agent_slug,
            sample_rate=obj.sample_rate,
            scorers=obj.scorers,
            enabled=obj.enabled,
        )
        obj.pk = saved.pk


@admin.register(LiveScore)
class LiveScoreAdmin(admin.ModelAdmin[LiveScore]):
    list_display = ("run_id", "scorer", "value", "passed", "errored", "created_at")
    list_filter = ("scorer", "passed", "errored")
    search_fields = ("=run_id",)
    fields = ("config", "run_link", "trace_link", "scorer", "value", "passed", "errored", "reason", "details")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LiveScore | None = None) -> bool:
        return obj is None

    @admin.display(description="Run")
    def run_link(self, obj: LiveScore) -> SafeString:
        return run_links(obj.run_id)

    @admin.display(description="Trace")
    def trace_link(self, obj: LiveScore) -> SafeString | str:
        return trace_link(obj.trace_id)
