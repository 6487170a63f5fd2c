"""The browser chat page. Everything after the first paint goes through the API and the socket."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chat.selectors import chat_agents, provider_setup_hint
from core.tenancy import tenant_for_user


@login_required
def chat_page(request: HttpRequest) -> HttpResponse:
    tenant = tenant_for_user(request.user)
    return render(
        request,
        "chat/index.html",
        {
            "agents": chat_agents(tenant_id=tenant.pk),
            "provider_hint": provider_setup_hint(),
            "resource_id": str(request.user.pk),
        },
    )
