"""The browser chat page. Everything after the first paint goes through the API and the socket."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chat.selectors import provider_setup_hint


@login_required
def chat_page(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "chat/index.html",
        {"provider_hint": provider_setup_hint(), "resource_id": str(request.user.pk)},
    )
