"""Admin views over an agent's version history: list, diff of two versions, rollback."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from agents.models import Agent, AgentVersion
from agents.selectors import agent_version_diff
from agents.services import agent_rollback
from core.errors import NotFound

if TYPE_CHECKING:
    from agents.admin.agent import AgentAdmin


def _agent(model_admin: AgentAdmin, request: HttpRequest, object_id: int) -> Agent:
    agent = get_object_or_404(Agent, pk=object_id)
    if not model_admin.has_view_permission(request, agent):
        raise PermissionDenied
    return agent


def _context(model_admin: AgentAdmin, request: HttpRequest, agent: Agent, title: str) -> dict[str, Any]:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": agent,
        "title": title,
        "can_rollback": model_admin.has_change_permission(request, agent),
        "versions_url": reverse("admin:agents_agent_versions", args=[agent.pk]),
        "diff_url": reverse("admin:agents_agent_version_diff", args=[agent.pk]),
    }


def version_list(model_admin: AgentAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    agent = _agent(model_admin, request, object_id)
    rows = list(agent.versions.select_related("created_by").order_by("-number"))
    context = _context(model_admin, request, agent, f"Versions of {agent.slug}")
    context["versions"] = rows
    return TemplateResponse(request, "admin/agents/agent/versions.html", context)


def _number(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise Http404(f"{name} must be a version number") from exc


def _diff_lines(diff: str) -> list[tuple[str, str]]:
    """Each line of a unified diff with a CSS class: header, hunk, added, removed or context."""
    lines = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "header"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "added"
        elif line.startswith("-"):
            kind = "removed"
        else:
            kind = "context"
        lines.append((kind, line))
    return lines


def _instructions_diff(old: AgentVersion, new: AgentVersion) -> list[tuple[str, str]]:
    """Instructions are one JSON string in the config diff; diff them line by line too, for reading."""
    before = str(old.config.get("instructions", "")).splitlines()
    after = str(new.config.get("instructions", "")).splitlines()
    if before == after:
        return []
    diff = difflib.unified_diff(before, after, f"version {old.number}", f"version {new.number}", lineterm="")
    return _diff_lines("\n".join(diff))


def version_diff(model_admin: AgentAdmin, request: HttpRequest, object_id: int) -> HttpResponse:
    agent = _agent(model_admin, request, object_id)
    new_number = _number(request, "new", agent.version)
    old_number = _number(request, "old", new_number - 1)
    found = {
        v.number: v for v in AgentVersion.objects.filter(agent=agent, number__in=[old_number, new_number])
    }
    if old_number not in found or new_number not in found:
        messages.error(request, f"Choose two existing versions of {agent.slug} to compare.")
        return HttpResponseRedirect(reverse("admin:agents_agent_versions", args=[agent.pk]))
    old, new = found[old_number], found[new_number]
    context = _context(model_admin, request, agent, f"{agent.slug}: version {old.number} → {new.number}")
    context.update(
        old=old,
        new=new,
        lines=_diff_lines(agent_version_diff(old=old, new=new)),
        instruction_lines=_instructions_diff(old, new),
        numbers=list(agent.versions.order_by("-number").values_list("number", flat=True)),
    )
    return TemplateResponse(request, "admin/agents/agent/version_diff.html", context)


def rollback(model_admin: AgentAdmin, request: HttpRequest, object_id: int, number: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    agent = get_object_or_404(Agent, pk=object_id)
    if not model_admin.has_change_permission(request, agent):
        raise PermissionDenied
    user = request.user if request.user.is_authenticated else None
    try:
        version = agent_rollback(agent=agent, number=number, user=user)
    except NotFound as exc:
        messages.error(request, exc.message)
    else:
        text = f"Rolled back {agent.slug} to version {number}; saved as version {version.number}."
        model_admin.log_change(request, agent, text)
        messages.success(request, text)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("admin:agents_agent_versions", args=[agent.pk])
    return HttpResponseRedirect(target)
