"""Pending approvals in the admin: an operator marks a tool as needing approval, then approves
and declines waiting calls; a real Celery worker continues the runs."""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.conf import settings as django_settings
from django.urls import reverse

from agents.models import Run, Tool, ToolCallGate
from agents.runtime import MemoryOptions, generate
from config.celery import app as celery_app
from core.context import RequestContext
from tests.evals.worker import WorkerProcess, wait_until
from tests.factories import TenantFactory, UserFactory
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def worker(openai_server: Any) -> Iterator[WorkerProcess]:
    """Tasks leave this process for this run's Redis database; one worker process takes them."""
    from django.db import connection

    redis.Redis.from_url(django_settings.CELERY_BROKER_URL).flushdb()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    process = WorkerProcess(
        db_name=connection.settings_dict["NAME"], scripted_base_url=openai_server.base_url, lease_s=30
    ).start()
    yield process
    process.stop()
    celery_app.conf.task_always_eager = eager


@pytest.fixture
def staff(admin_client: Any) -> Any:
    return admin_client


def _suspended_run(agent: Any, user: Any, thread: str, timezone: str) -> Run:
    result = generate(
        agent.slug,
        context=RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk),
        prompt=f"What time is it in {timezone}?",
        memory=MemoryOptions(thread_id=thread),
    )
    assert result.status == "suspended", result
    return Run.objects.get(id=result.run_id)


def test_an_operator_marks_a_tool_approves_and_declines_calls(
    staff, make_agent, openai_server, worker, user, admin_user
):
    agent = make_agent(slug="clock", tools=["current_time"], memory={"last_messages": 10})
    # The operator's switch on the tool's list page: every call of current_time now waits.
    changelist = reverse("admin:agents_tool_changelist")
    page = staff.get(changelist)
    assert "Operator: require approval" in page.content.decode()
    tools = list(Tool.objects.order_by("id"))
    form: dict[str, Any] = {
        "form-TOTAL_FORMS": str(len(tools)),
        "form-INITIAL_FORMS": str(len(tools)),
        "_save": "Save",
    }
    for index, tool in enumerate(tools):
        form[f"form-{index}-id"] = tool.pk
        if tool.enabled:
            form[f"form-{index}-enabled"] = "on"
        if tool.pk == "current_time":
            form[f"form-{index}-approval_required"] = "on"
    assert staff.post(changelist, form).status_code == 302
    assert Tool.objects.get(pk="current_time").approval_required

    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": "UTC"}, id="t1")]),
        ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": "Asia/Tokyo"}, id="t2")]),
    )
    first = _suspended_run(agent, user, "adm-1", "UTC")
    second = _suspended_run(agent, user, "adm-2", "Tokyo")

    # The list opens on what waits for approval, every tenant's, with the call's arguments.
    gates = reverse("admin:agents_toolcallgate_changelist")
    listing = staff.get(gates).content.decode()
    assert "Pending approvals" in listing
    assert str(first.id) in listing
    assert str(second.id) in listing
    assert html.escape(json.dumps({"timezone": "Asia/Tokyo"})) in listing

    openai_server.script(ChatReply(text="It is noon in UTC."), ChatReply(text="I will not look it up."))
    gate = ToolCallGate.objects.get(run=first)
    done = staff.post(
        gates,
        {"action": "approve_calls", "_selected_action": [gate.pk], "reason": "", "index": "0"},
        follow=True,
    )
    assert "1 call(s) approved; 1 run(s) continue on a worker" in done.content.decode()
    gate.refresh_from_db()
    assert (gate.status, gate.decided_by_id) == ("approved", admin_user.pk)
    wait_until(lambda: Run.objects.get(id=first.id).status == "completed", what="the approved run")
    assert Run.objects.get(id=first.id).result["text"] == "It is noon in UTC."
    still = staff.get(gates).content.decode()  # the list shows what still waits
    assert str(first.id) not in still
    assert str(second.id) in still

    other = ToolCallGate.objects.get(run=second)
    staff.post(
        gates,
        {"action": "decline_calls", "_selected_action": [other.pk], "reason": "not needed", "index": "0"},
    )
    other.refresh_from_db()
    assert (other.status, other.reason) == ("declined", "not needed")
    wait_until(lambda: Run.objects.get(id=second.id).status == "completed", what="the declined run")
    refusal = openai_server.chat_requests[-1].messages[-1]
    assert refusal["role"] == "tool"
    assert "not needed" in refusal["content"]

    # Deciding again changes nothing and says why.
    again = staff.post(
        gates + "?status=declined",
        {"action": "approve_calls", "_selected_action": [other.pk], "reason": "", "index": "0"},
        follow=True,
    ).content.decode()
    assert "already declined" in again
    other.refresh_from_db()
    assert other.status == "declined"
    assert len(openai_server.chat_requests) == 4  # two turns, two continuations, nothing more


def test_the_decision_is_taken_as_an_admin_of_the_calls_tenant(staff, make_agent, openai_server, worker):
    # A call of another tenant: decided in that tenant, its owner unchanged, the operator recorded.
    tenant: Any = TenantFactory()
    owner: Any = UserFactory(tenant=tenant)
    agent = make_agent(slug="clock2", tools=["current_time"], require_approval=True)
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="current_time", arguments={"timezone": "UTC"}, id="t3")]),
        ChatReply(text="Done."),
    )
    run = _suspended_run(agent, owner, "adm-3", "UTC")
    gate = ToolCallGate.objects.get(run=run)
    url = reverse("admin:agents_toolcallgate_changelist") + f"?tenant__id__exact={tenant.pk}"
    listing = staff.get(url).content.decode()
    assert str(run.id) in listing
    staff.post(url, {"action": "approve_calls", "_selected_action": [gate.pk], "index": "0"})
    wait_until(lambda: Run.objects.get(id=run.id).status == "completed", what="the approved run")
    gate.refresh_from_db()
    assert gate.tenant_id == tenant.pk
    assert gate.owner_id == owner.pk
