from __future__ import annotations

import os
from typing import Any

import pytest

from observability.models import Span, Trace
from observability.redaction import REDACTED, redact, register_secret
from observability.tracing import current_span, trace_start, traced_operation
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_nested_spans_are_persisted_in_order_with_parents(tenant):
    trace = trace_start(name="agent.run", tenant_id=tenant.pk, agent_id="demo")
    with trace.span("run", kind="run") as run_span:
        assert current_span() is run_span
        with trace.span("model", kind="model", model="scripted/gpt-test") as model_span:
            model_span.set(input_tokens=12)
        with pytest.raises(RuntimeError), trace.span("tool", kind="tool", tool_name="boom"):
            raise RuntimeError("tool exploded")
    assert current_span() is None
    trace.flush()

    stored = Trace.objects.get(id=trace.id)
    assert stored.status == "error"
    spans = list(Span.objects.filter(trace=stored).order_by("seq"))
    assert [s.name for s in spans] == ["run", "model", "tool"]
    assert spans[1].parent_id == spans[0].id
    assert spans[2].parent_id == spans[0].id
    assert spans[1].attributes == {"model": "scripted/gpt-test", "input_tokens": 12}
    assert spans[2].status == "error"
    assert "tool exploded" in spans[2].error
    assert spans[0].started_at <= spans[1].started_at <= spans[2].started_at


def test_flush_is_idempotent(tenant):
    trace = trace_start(name="t", tenant_id=tenant.pk)
    with trace.span("a"):
        pass
    trace.flush()
    trace.flush()
    assert Span.objects.filter(trace_id=trace.id).count() == 1


def test_planted_secrets_never_reach_stored_spans(tenant):
    os.environ["OPENAI_API_KEY"] = "sk-test-planted-secret-value-0001"
    register_secret("runtime-credential-XYZ987")
    trace = trace_start(name="t", tenant_id=tenant.pk, note="key sk-test-planted-secret-value-0001")
    with trace.span("call", kind="storage") as span:
        span.set(
            headers={"Authorization": "Bearer abc", "x-ok": "fine"},
            api_key="anything",
            text="creds are runtime-credential-XYZ987 here",
            nested=[{"password": "hunter22"}],
        )
        span.record_error("failed with runtime-credential-XYZ987")
    trace.flush()

    stored = Span.objects.get(trace_id=trace.id)
    dump = str(stored.attributes) + stored.error + str(Trace.objects.get(id=trace.id).attributes)
    assert "runtime-credential-XYZ987" not in dump
    assert "sk-test-planted-secret-value-0001" not in dump
    assert "hunter22" not in dump
    assert stored.attributes["headers"] == {"Authorization": REDACTED, "x-ok": "fine"}
    assert stored.attributes["api_key"] == REDACTED
    assert stored.attributes["text"] == f"creds are {REDACTED} here"


def test_redact_keeps_plain_values():
    assert redact({"n": 1, "ok": True, "items": [1, "a"], "none": None}) == {
        "n": 1,
        "ok": True,
        "items": [1, "a"],
        "none": None,
    }


def test_traced_operation_outside_a_run_persists_its_own_trace(tenant):
    with traced_operation("workspace.teardown", kind="storage", tenant_id=tenant.pk, bucket="b1") as span:
        span.set(deleted=3)
    stored = Span.objects.get(name="workspace.teardown")
    assert stored.trace.tenant_id == tenant.pk
    assert stored.attributes == {"bucket": "b1", "deleted": 3}


def test_trace_api_is_scoped_to_the_tenant(api_client, user):
    mine = trace_start(name="mine", tenant_id=user.membership.tenant_id, owner_id=user.pk)
    with mine.span("run", kind="run"):
        pass
    mine.flush()
    other_user: Any = UserFactory(tenant=TenantFactory())
    theirs = trace_start(name="theirs", tenant_id=other_user.membership.tenant_id)
    theirs.flush()

    ok = api_client.get(f"/api/traces/{mine.id}")
    assert ok.status_code == 200
    assert [s["name"] for s in ok.json()["spans"]] == ["run"]

    hidden = api_client.get(f"/api/traces/{theirs.id}")
    assert hidden.status_code == 404
    assert hidden.json()["code"] == "not_found"


def test_a_trace_of_background_work_is_for_tenant_admins_only(api_client, user):
    from core.models import Membership

    background = trace_start(name="sweep", tenant_id=user.membership.tenant_id)
    background.flush()
    assert api_client.get(f"/api/traces/{background.id}").status_code == 404
    Membership.objects.filter(user=user).update(role=Membership.Role.ADMIN)
    assert api_client.get(f"/api/traces/{background.id}").status_code == 200


def test_trace_api_requires_authentication(db):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/traces/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 401
    assert set(response.json()) == {"code", "message", "details"}


def test_a_provider_configured_later_has_its_key_redacted(settings, monkeypatch):
    redact({"warm": "the cache"})  # a pattern compiled before the provider existed
    monkeypatch.setenv("LATE_PROVIDER_KEY", "sk-late-provider-secret-42")
    settings.MODEL_PROVIDERS = {
        **settings.MODEL_PROVIDERS,
        "late": {"base_url": "http://x/v1", "api_key_env": "LATE_PROVIDER_KEY"},
    }
    assert redact({"text": "key sk-late-provider-secret-42"}) == {"text": f"key {REDACTED}"}
