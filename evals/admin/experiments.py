"""Experiments with their summary, a cancel action, the comparison of two, and results with scores."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agents.admin.display import pretty_json
from core.access import Actor
from core.tenancy import tenant_for_user
from evals import selectors
from evals.admin.links import run_links, trace_link
from evals.comparison import CaseChange, experiment_compare
from evals.models import CaseResult, Experiment, Score
from evals.services.experiments import experiment_cancel


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
    list_display = (
        "id", "dataset", "dataset_version", "agent_slug", "agent_version", "workflow_id", "status", "created_at",
    )  # fmt: skip
    list_filter = ("status", "agent_slug", "workflow_id")
    fields = (
        "dataset", "dataset_version", "agent_slug", "agent_version", "workflow_id", "workflow_version",
        "status", "repeats", "concurrency",
        "tenant", "owner", "created_at", "finished_at", "scorers_pretty", "summary_pretty",
    )  # fmt: skip
    readonly_fields = fields
    inlines = [ResultInline]
    actions = ["cancel", "compare"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Experiment | None = None) -> bool:
        return obj is None or super().has_change_permission(request, obj)

    def get_urls(self) -> list[URLPattern]:
        chart = path("chart/", self.admin_site.admin_view(self.chart_view), name="evals_experiment_chart")
        return [chart, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra = {**(extra_context or {}), "chart_url": reverse("admin:evals_experiment_chart")}
        return super().changelist_view(request, extra_context=extra)

    def chart_view(self, request: HttpRequest) -> TemplateResponse:
        """Each scorer's mean over an agent's recent experiments, labelled with the agent version,
        drawn with ECharts served from static/vendor (`?tenant=`, default the operator's;
        `?agent=`; `?dataset=`)."""
        tenants = selectors.experiment_tenants()
        own = tenant_for_user(request.user)
        chosen = request.GET.get("tenant") or own.slug
        tenant_id = next((pk for pk, slug in tenants if slug == chosen), own.pk)
        actor = Actor.system(tenant_id=tenant_id)
        agents = selectors.experiment_agents(actor=actor)
        agent = request.GET.get("agent") or (agents[0] if agents else "")
        dataset = request.GET.get("dataset") or None
        points = (
            selectors.scorer_history(actor=actor, agent_slug=agent, dataset_name=dataset) if agent else []
        )
        scorers = sorted({name for p in points for name in p.means})
        chart = {
            "labels": [
                f"#{p.experiment_id} v{p.agent_version} ({p.dataset} v{p.dataset_version})" for p in points
            ],
            "series": [{"name": name, "values": [p.means.get(name) for p in points]} for name in scorers],
        }
        rows = [
            (
                p,
                reverse("admin:evals_experiment_change", args=[p.experiment_id]),
                [p.means.get(n) for n in scorers],
            )
            for p in points
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Scorers over the recent experiments of {agent or 'an agent'}",
            "tenants": [slug for _, slug in tenants],
            "tenant": next((slug for pk, slug in tenants if pk == tenant_id), own.slug),
            "agents": agents,
            "agent": agent,
            "dataset": dataset,
            "chart": chart,
            "scorers": scorers,
            "rows": rows,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/evals/experiment_chart.html", context)

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
    fields = ("scorer", "value", "passed", "errored", "reason", "judge_trace", "details")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: CaseResult | None = None) -> bool:
        return False

    @admin.display(description="Judge's trace")
    def judge_trace(self, obj: Score) -> SafeString | str:
        trace_id = (obj.details or {}).get("judgeTraceId")
        return trace_link(uuid.UUID(trace_id)) if trace_id else "—"


@admin.register(CaseResult)
class CaseResultAdmin(admin.ModelAdmin[CaseResult]):
    list_display = ("case_name", "repeat", "experiment", "status", "attempts")
    list_filter = ("status",)
    fields = (
        "experiment", "case_name", "repeat", "status", "attempts", "run_link", "trace_link",
        "workflow_run_link", "finished_at", "case_pretty", "output_pretty", "error_pretty",
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
        return run_links(obj.run_id)

    @admin.display(description="Workflow run")
    def workflow_run_link(self, obj: CaseResult) -> SafeString | str:
        if obj.workflow_run_id is None:
            return "—"
        url = reverse("admin:workflows_workflowrun_change", args=[obj.workflow_run_id])
        return format_html('<a href="{}">{}</a>', url, obj.workflow_run_id)

    @admin.display(description="Trace")
    def trace_link(self, obj: CaseResult) -> SafeString | str:
        return trace_link(obj.trace_id)

    @admin.display(description="Case")
    def case_pretty(self, obj: CaseResult) -> SafeString | str:
        return pretty_json(obj.case_data)

    @admin.display(description="Output")
    def output_pretty(self, obj: CaseResult) -> SafeString | str:
        return pretty_json(obj.output)

    @admin.display(description="Error")
    def error_pretty(self, obj: CaseResult) -> SafeString | str:
        return pretty_json(obj.error)
