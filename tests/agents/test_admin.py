"""The agents admin, driven through the Django test client as a superuser."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.urls import reverse

from agents.models import Agent, AgentVersion, ModelRoute, Run, Tool
from agents.runtime import generate
from core.context import RequestContext
from core.errors import Disabled
from tests.agents.admin_forms import add_agent, change_agent, form_data
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx(user: Any) -> RequestContext:
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk)


def test_add_form_writes_version_one_with_the_allowlist(admin_client, admin_user, synced):
    agent = add_agent(admin_client, version_note="first cut")

    versions = list(agent.versions.all())
    assert [v.number for v in versions] == [1]
    config = versions[0].config
    assert config["tools"] == ["test_add", "test_whoami"]
    assert config["model_settings"] == {"temperature": 0.2, "max_tokens": 300}
    assert config["fallback_models"] == ["backup/gpt-test"]
    assert config["instructions"].splitlines() == ["You answer support questions.", "Be brief."]
    assert versions[0].created_by == admin_user
    assert versions[0].note == "first cut"
    assert agent.version == 1


def test_edit_writes_exactly_one_new_version(admin_client, synced):
    agent = add_agent(admin_client)

    response = change_agent(
        admin_client, agent, instructions="You answer billing questions.", tools=["test_add"]
    )

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.version == 2
    assert list(agent.versions.values_list("number", flat=True)) == [2, 1]
    latest = agent.versions.get(number=2).config
    assert latest["instructions"] == "You answer billing questions."
    assert latest["tools"] == ["test_add"]


def test_diff_view_shows_the_changed_instruction_line(admin_client, synced):
    agent = add_agent(admin_client, instructions="Greet the user politely.")
    change_agent(admin_client, agent, instructions="Greet the user like a pirate.")

    url = reverse("admin:agents_agent_version_diff", args=[agent.pk])
    response = admin_client.get(url, {"old": 1, "new": 2})

    assert response.status_code == 200
    html = response.content.decode()
    assert (
        '<span class="removed">-  &quot;instructions&quot;: &quot;Greet the user politely.&quot;,</span>'
        in html
    )
    assert (
        '<span class="added">+  &quot;instructions&quot;: &quot;Greet the user like a pirate.&quot;,</span>'
        in html
    )
    # unchanged lines are context, not marked as changes
    assert '<span class="added">+  &quot;model&quot;' not in html


def test_diff_view_shows_multi_line_instructions_line_by_line(admin_client, synced):
    agent = add_agent(admin_client, instructions="Be polite.\nAnswer in English.\nCite sources.")
    change_agent(admin_client, agent, instructions="Be polite.\nAnswer in French.\nCite sources.")

    response = admin_client.get(reverse("admin:agents_agent_version_diff", args=[agent.pk]))

    html = response.content.decode()
    section = html[html.index('id="instructions-diff"') : html.index('id="config-diff"')]
    assert '<span class="removed">-Answer in English.</span>' in section
    assert '<span class="added">+Answer in French.</span>' in section
    assert '<span class="context"> Be polite.</span>' in section


def test_diff_of_unknown_versions_redirects_with_a_message(admin_client, synced):
    agent = add_agent(admin_client)
    url = reverse("admin:agents_agent_version_diff", args=[agent.pk])

    response = admin_client.get(url, {"old": 1, "new": 9}, follow=True)
    assert response.status_code == 200
    assert "Choose two existing versions" in response.content.decode()
    assert admin_client.get(url, {"old": "x"}).status_code == 404


def test_rollback_restores_instructions_and_allowlist_as_a_new_version(admin_client, admin_user, synced):
    agent = add_agent(admin_client, instructions="Version one words.", tools=["test_add", "test_whoami"])
    change_agent(admin_client, agent, instructions="Version two words.", tools=["test_slow"])

    versions_url = reverse("admin:agents_agent_versions", args=[agent.pk])
    listing = admin_client.get(versions_url).content.decode()
    rollback_url = reverse("admin:agents_agent_rollback", args=[agent.pk, 1])
    assert f'action="{rollback_url}"' in listing
    assert "csrfmiddlewaretoken" in listing

    response = admin_client.post(rollback_url, {"next": versions_url}, follow=True)

    assert response.redirect_chain[-1][0] == versions_url
    assert "Rolled back support to version 1; saved as version 3." in response.content.decode()
    agent.refresh_from_db()
    assert agent.version == 3
    assert agent.instructions == "Version one words."
    assert sorted(agent.tools.values_list("id", flat=True)) == ["test_add", "test_whoami"]
    v1, v3 = agent.versions.get(number=1), agent.versions.get(number=3)
    assert v3.config == v1.config
    assert v3.created_by == admin_user


def test_rollback_needs_post_and_an_existing_version(admin_client, synced):
    agent = add_agent(admin_client)
    url = reverse("admin:agents_agent_rollback", args=[agent.pk, 1])
    assert admin_client.get(url).status_code == 405

    missing = reverse("admin:agents_agent_rollback", args=[agent.pk, 7])
    response = admin_client.post(missing, {"next": "https://evil.example/"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:agents_agent_versions", args=[agent.pk])
    assert "has no version 7" in response.content.decode()
    assert AgentVersion.objects.filter(agent=agent).count() == 1


def test_rollback_requires_change_permission(client, django_user_model, synced, make_agent):
    from django.contrib.auth.models import Permission

    agent = make_agent(slug="support")
    viewer = django_user_model.objects.create_user(username="viewer", password="pw-viewer-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_agent"))
    client.force_login(viewer)

    assert client.get(reverse("admin:agents_agent_versions", args=[agent.pk])).status_code == 200
    response = client.post(reverse("admin:agents_agent_rollback", args=[agent.pk, 1]))
    assert response.status_code == 403
    assert agent.versions.count() == 1


def test_disable_action_stops_runs_at_once(admin_client, make_agent, ctx):
    agent = make_agent(slug="support")
    other = make_agent(slug="other")

    response = admin_client.post(
        reverse("admin:agents_agent_changelist"),
        {"action": "disable_agents", "_selected_action": [agent.pk]},
        follow=True,
    )

    assert "1 agent(s) disabled." in response.content.decode()
    with pytest.raises(Disabled):
        generate("support", context=ctx, prompt="hi")
    agent.refresh_from_db()
    other.refresh_from_db()
    assert not agent.enabled
    assert other.enabled
    assert agent.versions.first().note == "Disabled"


def test_enable_action_lets_runs_through_again(admin_client, make_agent, ctx, openai_server):
    agent = make_agent(slug="support", enabled=False)
    admin_client.post(
        reverse("admin:agents_agent_changelist"), {"action": "enable_agents", "_selected_action": [agent.pk]}
    )
    openai_server.script(ChatReply(text="Back online."))

    assert generate("support", context=ctx, prompt="hi").text == "Back online."


def test_tool_disabled_in_the_admin_is_no_longer_offered(admin_client, make_agent, ctx, openai_server):
    make_agent(slug="support", tools=["test_add", "test_whoami"])

    admin_client.post(
        reverse("admin:agents_tool_changelist"), {"action": "disable_tools", "_selected_action": ["test_add"]}
    )
    openai_server.script(ChatReply(text="ok"))
    generate("support", context=ctx, prompt="hi")

    assert not Tool.objects.get(id="test_add").enabled
    offered = {t["function"]["name"] for t in openai_server.chat_requests[0].body["tools"]}
    assert offered == {"test_whoami", "render_data"}  # render_data is ambient


def test_tool_change_form_edits_only_the_switch(admin_client, synced):
    url = reverse("admin:agents_tool_change", args=["test_whoami"])
    page = admin_client.get(url).content.decode()
    assert 'name="enabled"' in page
    assert 'name="description"' not in page
    assert "&quot;properties&quot;" in page or "&quot;type&quot;" in page  # schema shown pretty-printed

    response = admin_client.post(url, {"description": "hacked", "timeout_s": "1"})  # enabled unticked

    assert response.status_code == 302
    tool = Tool.objects.get(id="test_whoami")
    assert not tool.enabled
    assert tool.description == "Reports the request context it received"
    assert tool.timeout_s == 30.0


def test_sync_button_syncs_tools_from_code(admin_client, db):
    Tool.objects.filter(id="test_add").delete()  # as if the tool was added to the code since the last sync
    Tool.objects.filter(id="test_whoami").update(in_code=False)
    url = reverse("admin:agents_tool_sync")
    assert admin_client.get(url).status_code == 405

    response = admin_client.post(url, follow=True)

    assert "Synced" in response.content.decode()
    assert Tool.objects.filter(id="test_add", in_code=True).exists()
    assert Tool.objects.get(id="test_whoami").in_code


def test_model_route_switch_added_in_the_admin_refuses_runs(admin_client, make_agent, ctx):
    make_agent(slug="support", model="scripted/gpt-test", fallback_models=[])

    response = admin_client.post(
        reverse("admin:agents_modelroute_add"), {"model": "scripted/*", "note": "provider outage"}
    )

    assert response.status_code == 302
    route = ModelRoute.objects.get(model="scripted/*")
    assert not route.enabled
    assert route.note == "provider outage"
    with pytest.raises(Disabled):
        generate("support", context=ctx, prompt="hi")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model_settings", '{"temperature": 3}', "temperature: Input should be less than or equal to 2"),
        ("model_settings", '{"max_tokens": 0}', "max_tokens: Input should be greater than 0"),
        ("model_settings", '{"max_tokens": "many"}', "max_tokens: Input should be a valid integer"),
        ("model_settings", '{"temprature": 0.5}', "temprature: Extra inputs are not permitted"),
        ("model_settings", "[1, 2]", "Enter a JSON object"),
        ("model_settings", "{not json", "Enter a valid JSON"),
        ("request_context_schema", '{"type": "nope"}', "Not a valid JSON Schema at type"),
        ("request_context_schema", '{"properties": {"plan": {"minLength": -1}}}', "Not a valid JSON Schema"),
        ("fallback_models", '["backup/gpt-test", 3]', "Enter model names, one per line"),
        ("fallback_models", "[not json", "or a valid JSON list"),
        ("fallback_models", "backup/gpt-test\nnowhere/model", "Unknown model provider"),
        ("model", "tier:huge", "Unknown tier"),
        ("memory_last_messages", "501", "less than or equal to 500"),
        ("memory_last_messages", "many", "Enter a whole number"),
        ("fallback_models", '["nowhere/model"]', "Unknown model provider"),
        ("model", "nowhere/model", "Unknown model provider"),
    ],
)
def test_invalid_settings_show_a_form_error(admin_client, synced, field, value, message):
    response = admin_client.post(reverse("admin:agents_agent_add"), form_data(**{field: value}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert field in errors
    assert any(message in e for e in errors[field]), errors[field]
    assert not Agent.objects.exists()
    assert not AgentVersion.objects.exists()


def test_change_page_shows_recent_versions_and_pretty_json(admin_client, synced):
    agent = add_agent(admin_client)
    change_agent(admin_client, agent, version_note="tighter answers")

    page = admin_client.get(reverse("admin:agents_agent_change", args=[agent.pk])).content.decode()

    assert "tighter answers" in page
    assert reverse("admin:agents_agent_versions", args=[agent.pk]) in page
    assert "?old=1&amp;new=2" in page
    assert "&quot;max_tokens&quot;: 300,\n  &quot;temperature&quot;: 0.2" in page


def test_run_detail_links_its_trace(admin_client, make_agent, ctx, openai_server):
    make_agent(slug="support")
    openai_server.script(ChatReply(text="Hello from the run."))
    result = generate("support", context=ctx, prompt="hi")

    page = admin_client.get(reverse("admin:agents_run_change", args=[result.run_id])).content.decode()

    assert f'href="/admin/observability/trace/{result.trace_id}/change/"' in page
    assert "Hello from the run." in page
    assert "<pre" in page
    listing = admin_client.get(reverse("admin:agents_run_changelist"), {"status__exact": "completed"})
    assert str(result.run_id) in listing.content.decode()


def test_every_registered_model_renders(admin_client, make_agent, ctx, openai_server):
    make_agent(slug="support")
    openai_server.script(ChatReply(text="hi"))
    generate("support", context=ctx, prompt="hi")
    ModelRoute.objects.create(model="backup/*", enabled=False)
    assert Run.objects.exists()

    rendered = set()
    for model in admin.site._registry:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client.get(changelist).status_code == 200, changelist
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert admin_client.get(change).status_code == 200, change
            rendered.add(opts.label)
    assert {"agents.Agent", "agents.Tool", "agents.ModelRoute", "agents.Run"} <= rendered
    agent = Agent.objects.get(slug="support")
    assert admin_client.get(reverse("admin:agents_agent_versions", args=[agent.pk])).status_code == 200


def test_tool_list_switches_save_through_the_changelist(admin_client, synced):
    ids = list(Tool.objects.order_by("id").values_list("id", flat=True))
    data: dict[str, Any] = {"form-TOTAL_FORMS": len(ids), "form-INITIAL_FORMS": len(ids), "_save": "Save"}
    for i, tool_id in enumerate(ids):
        data[f"form-{i}-id"] = tool_id
        if tool_id != "test_slow":
            data[f"form-{i}-enabled"] = "on"

    response = admin_client.post(reverse("admin:agents_tool_changelist"), data)

    assert response.status_code == 302
    assert list(Tool.objects.filter(enabled=False).values_list("id", flat=True)) == ["test_slow"]


def test_model_route_actions_switch_routes(admin_client, db):
    route = ModelRoute.objects.create(model="openai/gpt-4o", enabled=True, note="primary")
    url = reverse("admin:agents_modelroute_changelist")

    admin_client.post(url, {"action": "disable_routes", "_selected_action": [route.pk]})
    route.refresh_from_db()
    assert not route.enabled
    assert route.note == "primary"

    admin_client.post(url, {"action": "enable_routes", "_selected_action": [route.pk]})
    route.refresh_from_db()
    assert route.enabled
    change = admin_client.get(reverse("admin:agents_modelroute_change", args=[route.pk])).content.decode()
    assert 'name="model"' not in change  # the route's model is fixed once created


def test_duplicate_model_route_is_a_form_error(admin_client, db):
    ModelRoute.objects.create(model="openai/*", enabled=True)

    response = admin_client.post(reverse("admin:agents_modelroute_add"), {"model": "openai/*", "note": ""})

    assert response.status_code == 200
    assert "model" in response.context["adminform"].form.errors
    assert ModelRoute.objects.get(model="openai/*").enabled


def test_a_trace_page_shows_attributes_as_json_and_durations_in_ms(
    admin_client, make_agent, ctx, openai_server
):
    import re

    make_agent(slug="support")
    openai_server.script(ChatReply(text="hi"))
    result = generate("support", context=ctx, prompt="hi")
    page = admin_client.get(f"/admin/observability/trace/{result.trace_id}/change/").content.decode()

    codes = re.findall(r"<code>(.*?)</code>", page, flags=re.S)
    assert codes
    assert all(not re.search(r"\bTrue\b|\bFalse\b|\bNone\b|': ", c) for c in codes)
    assert any("&quot;" in c for c in codes)  # JSON's double quotes, escaped for HTML
    assert re.search(r"\d+\.\d\d ms", page)
    assert not re.search(r"\d+\.\d{5,}", page)  # no raw float of many digits
