"""The workflows admin: definitions switched off, runs with their timeline, cancel and approve."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import UserFactory
from workflows import services
from workflows.models import WorkflowDefinition, WorkflowRun

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(client: Any) -> Any:
    admin: Any = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_definitions_are_listed_and_switched_off(staff: Any, actor: Any) -> None:
    services.definitions_sync()
    page = staff.get("/admin/workflows/workflowdefinition/")
    assert page.status_code == 200
    assert b"t-sequence" in page.content
    ids = list(WorkflowDefinition.objects.filter(workflow_id="t-sequence").values_list("pk", flat=True))
    staff.post(
        "/admin/workflows/workflowdefinition/", {"action": "disable_workflows", "_selected_action": ids}
    )
    assert not services.workflow_enabled("t-sequence")


def test_a_run_shows_its_timeline_and_can_be_approved_or_cancelled(staff: Any, actor: Any) -> None:
    done = services.run_start(actor=actor, workflow_id="t-retry", input_data={"value": 1})
    page = staff.get(f"/admin/workflows/workflowrun/{done.pk}/change/")
    assert page.status_code == 200
    assert page.content.count(b"1:flaky") >= 3  # three attempts on the timeline
    assert b"failure 1" in page.content
    waiting = services.run_start(actor=actor, workflow_id="t-suspend", input_data={"value": 1})
    staff.post("/admin/workflows/workflowrun/", {"action": "cancel_runs", "_selected_action": [waiting.pk]})
    assert WorkflowRun.objects.get(pk=waiting.pk).status == "canceled"
