"""Links from evals pages to runs and traces, and the one-click "new case" link."""

from __future__ import annotations

import uuid

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString


def new_case_url(run_id: uuid.UUID | str) -> str:
    """The case form prefilled from that run (see `CaseAdmin.get_changeform_initial_data`)."""
    return f"{reverse('admin:evals_case_add')}?from_run={run_id}"


def run_links(run_id: uuid.UUID) -> SafeString:
    """The run, and a new eval case prefilled from it (one click)."""
    return format_html(
        '<a href="{}">{}</a> · <a href="{}">New eval case from this run</a>',
        reverse("admin:agents_run_change", args=[run_id]),
        run_id,
        new_case_url(run_id),
    )


def trace_link(trace_id: uuid.UUID | None) -> SafeString | str:
    if trace_id is None:
        return "—"
    url = reverse("admin:observability_trace_change", args=[trace_id])
    return format_html('<a href="{}">{}</a>', url, trace_id)
