"""The evals admin: datasets with their cases (edited through the services, so each change is
validated and bumps the dataset's version), experiments with their summary, results with scores."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from core.access import Actor
from core.errors import PlatformError
from core.tenancy import tenant_for_user
from evals import selectors
from evals.comparison import CaseChange, experiment_compare
from evals.models import Case, CaseResult, Dataset, Experiment, LiveScore, LiveScoring, Score
from evals.services import datasets as dataset_services
from evals.services.experiments import experiment_cancel
from evals.services.live import live_scoring_set
from evals.validation import case_validate, scorers_validate


class CaseInline(admin.TabularInline[Case, Dataset]):
    model = Case
    fields = ("case_link", "tags", "expected_output")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Dataset | None = None) -> bool:
        return False

    @admin.display(description="Case")
    def case_link(self, obj: Case) -> SafeString:
        return format_html('<a href="{}">{}</a>', reverse("admin:evals_case_change", args=[obj.pk]), obj.name)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin[Dataset]):
    list_display = ("name", "version", "tenant", "owner", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = [CaseInline]


class CaseForm(forms.ModelForm[Case]):
    class Meta:
        model = Case
        fields = (
            "dataset", "name", "input_messages", "request_context", "expected_output", "expected_tools",
            "forbidden_tools", "expected_tool_calls", "reference_context", "assertions", "tags",
        )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        fields = {k: v for k, v in data.items() if k != "dataset"}
        try:
            self.validated = case_validate(fields)
        except PlatformError as error:
            for field, problems in error.details.items():
                name = field.split(".")[0]
                target = name if name in self.fields else None
                self.add_error(target, f"{field}: {problems}")
        return data


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    form = CaseForm
    list_display = ("name", "dataset", "tags")
    list_filter = ("dataset",)
    search_fields = ("name",)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """`?from_run=<run id>`: the case prefilled from that run of the operator's tenant."""
        initial: dict[str, Any] = dict(super().get_changeform_initial_data(request))
        run_id = request.GET.get("from_run")
        if run_id:
            actor = Actor.system(tenant_id=tenant_for_user(request.user).pk)
            try:
                initial.update(selectors.case_draft_from_run(actor=actor, run_id=uuid.UUID(run_id)))
            except (ValueError, PlatformError):
                self.message_user(request, "That run was not found; the case starts empty.", messages.WARNING)
        return initial

    def save_model(self, request: HttpRequest, obj: Case, form: Any, change: bool) -> None:
        actor = Actor.system(tenant_id=obj.dataset.tenant_id)
        data = form.validated
        saved = (
            dataset_services.case_update(actor=actor, dataset_id=obj.dataset_id, case_id=obj.pk, data=data)
            if change
            else dataset_services.case_create(actor=actor, dataset_id=obj.dataset_id, data=data)
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: Case) -> None:
        actor = Actor.system(tenant_id=obj.dataset.tenant_id)
        dataset_services.case_delete(actor=actor, dataset_id=obj.dataset_id, case_id=obj.pk)


def _run_links(run_id: uuid.UUID) -> SafeString:
    """The run, and a new eval case prefilled from it (one click)."""
    return format_html(
        '<a href="{}">{}</a> · <a href="{}?from_run={}">New eval case from this run</a>',
        reverse("admin:agents_run_change", args=[run_id]),
        run_id,
        reverse("admin:evals_case_add"),
        run_id,
    )


class ResultInline(admin.TabularInline[CaseResult, Experiment]):
    model = CaseResult
    fields = ("result_link", "repeat", "status", "attempts", "run_id")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return False

    @admin.display(description="Case")
    def result_link(self, obj: CaseResult) -> SafeString:
        url = reverse("admin:evals_caseresult_change", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.case_name)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin[Experiment]):
    list_display = ("id", "dataset", "dataset_version", "agent_slug", "agent_version", "status", "created_at")
    list_filter = ("status", "agent_slug")
    fields = (
        "dataset", "dataset_version", "agent_slug", "agent_version", "status", "repeats", "concurrency",
        "tenant", "owner", "created_at", "finished_at", "scorers_pretty", "summary_pretty",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [ResultInline]
    actions = ["cancel", "compare"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return obj is None or super().has_change_permission(request, obj)

    @admin.display(description="Scorers")
    def scorers_pretty(self, obj: Experiment) -> SafeString | str:
        return pretty_json(obj.scorers)

    @admin.display(description="Summary")
    def summary_pretty(self, obj: Experiment) -> SafeString | str:
        return pretty_json(selectors.experiment_summary(experiment=obj).as_dict())

    @admin.action(description="Cancel the selected experiments")
    def cancel(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:
            experiment_cancel(actor=Actor.system(tenant_id=experiment.tenant_id), experiment_id=experiment.pk)
        self.message_user(request, f"Cancelled {queryset.count()} experiment(s).", messages.SUCCESS)

    @admin.action(description="Compare the two selected experiments (older one as baseline)")
    def compare(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> TemplateResponse | None:
        experiments = list(queryset.order_by("created_at", "pk"))
        if len(experiments) != 2 or experiments[0].tenant_id != experiments[1].tenant_id:
            self.message_user(request, "Select exactly two experiments of one tenant.", messages.ERROR)
            return None
        baseline, candidate = experiments
        comparison = experiment_compare(
            actor=Actor.system(tenant_id=baseline.tenant_id),
            baseline_id=baseline.pk,
            candidate_id=candidate.pk,
        )
        sections = [
            (title, [_with_trace_links(change) for change in changes])
            for title, changes in (("Regressed", comparison.regressed), ("Improved", comparison.improved))
        ]
        context = {
            **self.admin_site.each_context(request),
            "baseline": baseline,
            "candidate": candidate,
            "comparison": comparison,
            "sections": sections,
        }
        return TemplateResponse(request, "admin/evals/experiment_compare.html", context)


def _trace_urls(runs: list[dict[str, str | None]]) -> list[str]:
    return [reverse("admin:observability_trace_change", args=[r["trace_id"]]) for r in runs if r["trace_id"]]


def _with_trace_links(change: CaseChange) -> dict[str, Any]:
    return {
        "case_name": change.case_name,
        "baseline_pass_rate": change.baseline_pass_rate,
        "candidate_pass_rate": change.candidate_pass_rate,
        "baseline_traces": _trace_urls(change.baseline_runs),
        "candidate_traces": _trace_urls(change.candidate_runs),
    }


class ScoreInline(admin.TabularInline[Score, CaseResult]):
    model = Score
    fields = ("scorer", "value", "passed", "errored", "reason", "details")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: CaseResult | None = None) -> bool:
        return False


@admin.register(CaseResult)
class CaseResultAdmin(admin.ModelAdmin[CaseResult]):
    list_display = ("case_name", "repeat", "experiment", "status", "attempts")
    list_filter = ("status",)
    fields = (
        "experiment", "case_name", "repeat", "status", "attempts", "run_link", "trace_link",
        "finished_at", "case_pretty", "output_pretty", "error_pretty",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [ScoreInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: CaseResult | None = None) -> bool:
        return obj is None

    @admin.display(description="Run")
    def run_link(self, obj: CaseResult) -> SafeString | str:
        if obj.run_id is None:
            return "—"
        return _run_links(obj.run_id)

    @admin.display(description="Trace")
    def trace_link(self, obj: CaseResult) -> SafeString | str:
        if obj.trace_id is None:
            return "—"
        url = reverse("admin:observability_trace_change", args=[obj.trace_id])
        return format_html('<a href="{}">{}</a>', url, obj.trace_id)

    @admin.display(description="Case")
    def case_pretty(self, obj: CaseResult) -> SafeString | str:
        return pretty_json(obj.case_data)

    @admin.display(description="Output")
    def output_pretty(self, obj: CaseResult) -> SafeString | str:
        return pretty_json(obj.output)

    @admin.display(description="Error")
    def error_pretty(self, obj: CaseResult) -> SafeString | str:
        return pretty_json(obj.error)


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
        return _run_links(obj.run_id)

    @admin.display(description="Trace")
    def trace_link(self, obj: LiveScore) -> SafeString | str:
        if obj.trace_id is None:
            return "—"
        url = reverse("admin:observability_trace_change", args=[obj.trace_id])
        return format_html('<a href="{}">{}</a>', url, obj.trace_id)
