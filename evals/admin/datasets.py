"""Datasets with their cases, edited through the services (so each change is validated and
bumps the dataset's version); a case can start from a stored run; experiments start here."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from agents import selectors as agent_selectors
from core.access import Actor
from core.errors import PlatformError
from core.tenancy import tenant_for_user
from evals import selectors
from evals.models import Case, Dataset
from evals.services import datasets as dataset_services
from evals.services.experiments import MAX_CONCURRENCY, MAX_REPEATS, experiment_start
from evals.validation import case_validate
from workflows.selectors import workflow_list


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


class ExperimentStartForm(forms.Form):
    agent = forms.ChoiceField(required=False, help_text="The agent to run every case against.")
    workflow = forms.ChoiceField(
        required=False,
        help_text="Or a registered workflow: every case runs as a run of it (its last user message is "
        "the inputData: a JSON object, or the text of the workflow input's one text field).",
    )
    agent_version = forms.IntegerField(
        required=False, min_value=1, help_text="A stored version of the agent; empty: its current version."
    )
    scorers = forms.JSONField(
        required=False, initial=list, help_text='For every case, besides its own: [{"scorer": "contains"}]'
    )
    repeats = forms.IntegerField(min_value=1, max_value=MAX_REPEATS, initial=1)
    concurrency = forms.IntegerField(min_value=1, max_value=MAX_CONCURRENCY, initial=4)
    exclude_tags = forms.CharField(
        required=False, help_text="Comma-separated: leave out cases with these tags."
    )

    def __init__(self, *args: Any, agents: list[str], workflows: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [("", "—"), *((slug, slug) for slug in agents)]  # type: ignore[attr-defined]
        self.fields["workflow"].choices = [("", "—"), *((w, w) for w in workflows)]  # type: ignore[attr-defined]


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin[Dataset]):
    list_display = ("name", "version", "tenant", "owner", "updated_at")
    search_fields = ("name",)
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = [CaseInline]
    actions = ["start_experiment"]

    @admin.action(description="Run the selected dataset against an agent or a workflow (an experiment)")
    def start_experiment(
        self, request: HttpRequest, queryset: QuerySet[Dataset]
    ) -> TemplateResponse | HttpResponseRedirect | None:
        """An intermediate form (agent, version, scorers, repeats); the experiment is tenant-wide
        and runs on the Celery workers."""
        datasets = list(queryset[:2])
        if len(datasets) != 1:
            self.message_user(request, "Select exactly one dataset.", messages.ERROR)
            return None
        dataset = datasets[0]
        agents = list(agent_selectors.agent_list(tenant_id=dataset.tenant_id).values_list("slug", flat=True))
        workflows = sorted(w.id for w in workflow_list())
        form = ExperimentStartForm(
            request.POST if "apply" in request.POST else None, agents=agents, workflows=workflows
        )
        if form.is_valid():
            data = form.cleaned_data
            try:
                experiment = experiment_start(
                    actor=Actor.system(tenant_id=dataset.tenant_id),
                    dataset_id=dataset.pk,
                    agent_id=data["agent"] or None,
                    workflow_id=data["workflow"] or None,
                    agent_version=data["agent_version"],
                    scorers=data["scorers"] or [],
                    repeats=data["repeats"],
                    concurrency=data["concurrency"],
                    exclude_tags=[t.strip() for t in data["exclude_tags"].split(",") if t.strip()],
                )
            except PlatformError as error:
                form.add_error(None, f"{error.message} {error.details or ''}".strip())
            else:
                self.message_user(request, f"Experiment {experiment.pk} started.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:evals_experiment_change", args=[experiment.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Run {dataset.name} v{dataset.version} against an agent or a workflow",
            "dataset": dataset,
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/evals/experiment_start.html", context)


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
