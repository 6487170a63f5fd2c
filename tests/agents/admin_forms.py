"""The agent change form's data and posts, shared by the admin tests."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from agents.models import Agent


def form_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slug": "support",
        "name": "Support",
        "description": "",
        "tenant": "",
        "enabled": "on",
        "instructions": "You answer support questions.\nBe brief.",
        "style": "default",
        "style_instructions": "",
        "model": "scripted/gpt-test",
        "fallback_models": '["backup/gpt-test"]',
        "model_settings": '{"temperature": 0.2, "max_tokens": 300}',
        "max_steps": "4",
        "tools": ["test_add", "test_whoami"],
        "memory_enabled": "on",
        "memory_last_messages": "20",
        "memory_wm_format": "off",
        "request_context_schema": '{"type": "object", "properties": {"plan": {"type": "string"}}}',
        "version_note": "",
        # The toolkits inline's management form (no toolkit rows unless a test adds some).
        "toolkit_uses-TOTAL_FORMS": "0",
        "toolkit_uses-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def add_agent(client: Any, **overrides: Any) -> Agent:
    response = client.post(reverse("admin:agents_agent_add"), form_data(**overrides))
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Agent.objects.get(slug=overrides.get("slug", "support"))


def change_agent(client: Any, agent: Agent, **overrides: Any) -> Any:
    return client.post(reverse("admin:agents_agent_change", args=[agent.pk]), form_data(**overrides))
