"""The agent form's fields in the admin: style, memory settings and the model pickers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from agents.models import Agent
from tests.agents.admin_forms import add_agent, form_data

pytestmark = pytest.mark.django_db


def test_own_style_text_is_required_when_chosen(admin_client, synced):
    response = admin_client.post(reverse("admin:agents_agent_add"), form_data(style="custom"))
    assert response.status_code == 200
    assert "style_instructions" in response.context["adminform"].form.errors
    agent = add_agent(admin_client, style="custom", style_instructions="Answer in one line.")
    assert (agent.style, agent.style_instructions) == ("custom", "Answer in one line.")


MEMORY_FIELDS_ON = {
    "memory_recall": "on",
    "memory_recall_top_k": "5",
    "memory_recall_message_range": "1",
    "memory_recall_scope": "thread",
    "memory_recall_index": "agent",
    "memory_wm_format": "template",
    "memory_wm_scope": "resource",
    "memory_wm_template": "# Notes\n- Name:\n",
    "memory_wm_max_chars": "2000",
    "memory_generate_titles": "on",
}


def test_memory_settings_are_fields_composed_into_the_agents_memory(admin_client, synced):
    agent = add_agent(admin_client, **MEMORY_FIELDS_ON)
    assert agent.memory == {
        "enabled": True,
        "last_messages": 20,
        "drop_tool_calls": False,
        "generate_titles": True,
        "semantic_recall": {"top_k": 5, "message_range": 1, "scope": "thread", "index": "agent"},
        "working_memory": {"scope": "resource", "max_chars": 2000, "template": "# Notes\n- Name:\n"},
    }
    page = admin_client.get(reverse("admin:agents_agent_change", args=[agent.pk])).content.decode()
    assert 'name="memory_recall_top_k" value="5"' in page
    assert "&lt;working_memory format=&quot;markdown&quot;" in page  # the preview of what the model sees
    assert "# Notes" in page


def test_a_stateless_agent_and_a_json_schema_working_memory(admin_client, synced):
    schema = '{"type": "object", "properties": {"name": {"type": "string"}}}'
    agent = add_agent(admin_client, memory_enabled=None, memory_wm_format="schema", memory_wm_schema=schema)
    assert agent.memory["enabled"] is False
    assert agent.memory["working_memory"]["schema"]["properties"] == {"name": {"type": "string"}}


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (
            {"memory_recall": "on", "memory_recall_top_k": "0"},
            "memory_recall_top_k",
            "greater than or equal to 1",
        ),
        (
            {"memory_recall": "on", "memory_recall_message_range": "99"},
            "memory_recall_message_range",
            "less than",
        ),
        (
            {"memory_recall": "on", "memory_recall_index": "mine"},
            "memory_recall_index",
            "Select a valid choice",
        ),
        ({"memory_wm_format": "schema", "memory_wm_schema": "{nope"}, "memory_wm_schema", "Enter valid JSON"),
        (
            {"memory_wm_format": "schema", "memory_wm_schema": '{"type": "nope"}'},
            "memory_wm_schema",
            "JSON Schema",
        ),
        ({"memory_wm_format": "template", "memory_wm_max_chars": "5"}, "memory_wm_max_chars", "greater than"),
        ({"memory_token_limit": "0"}, "memory_token_limit", "greater than or equal to 1"),
    ],
)
def test_bad_memory_settings_are_errors_on_their_field(admin_client, synced, fields, field, message):
    response = admin_client.post(reverse("admin:agents_agent_add"), form_data(**fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors, errors
    assert any(message in e for e in errors[field]), errors[field]
    assert not Agent.objects.exists()


def test_the_model_pickers_offer_the_catalogue_by_tier(admin_client, synced, openai_server):
    from agents.providers.catalog import cache_clear

    openai_server.set_models(["claude-sonnet-4-6", "gpt-5-mini", "gpt-test"])
    cache_clear()
    page = admin_client.get(reverse("admin:agents_agent_add")).content.decode()
    assert page.count('class="model-picker"') == 2  # the model and the fallbacks
    assert '<optgroup label="Balanced"><option value="backup/claude-sonnet-4-6">' in page
    assert '<option value="scripted/gpt-5-mini">' in page.split('<optgroup label="Fast">')[1]
    assert '<option value="tier:thinking">' in page
    assert 'type="search"' in page
    assert "agents/model_picker.js" in page
    assert "agents/model_picker.css" in page  # a list box several rows high, not the admin's one line
    agent = add_agent(admin_client, model="tier:balanced", fallback_models="tier:fast\nscripted/gpt-test")
    assert (agent.model, agent.fallback_models) == ("tier:balanced", ["tier:fast", "scripted/gpt-test"])


def test_the_form_opens_with_a_text_input_when_the_catalogue_fails(admin_client, synced, settings):
    settings.MODEL_PROVIDERS = {
        "openai": {"base_url": "http://127.0.0.1:9/v1", "api_key_env": "OPENAI_API_KEY"}
    }
    from agents.providers.catalog import cache_clear

    cache_clear()
    page = admin_client.get(reverse("admin:agents_agent_add")).content.decode()
    assert 'class="model-picker"' not in page
    assert 'name="model"' in page
    assert "No provider listed its models" in page
