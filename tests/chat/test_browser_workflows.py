"""A person in headless Chromium runs the research workflow from the chat: types a topic and
presses Research, watches the steps, approves the outline in its card and reads the report;
then declines a second outline with a reason."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections

from tests.chat.test_browser import SHOTS, browser, person  # noqa: F401  (fixtures)
from tests.fakes.openai_server import ChatReply

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def _answer(body: dict[str, Any]) -> ChatReply:
    prompt = str(body.get("messages", [])[-1].get("content", ""))
    if prompt.startswith("Gather"):
        return ChatReply(text="- anemones live there")
    if prompt.startswith("Draft"):
        return ChatReply(text="1. Where\n2. Who lives there\n3. Why it matters")
    return ChatReply(text="**Tide pools** are small worlds.")


@pytest.fixture
def assistant(demo_agent: Any) -> Any:
    from agents.services import agent_save

    return agent_save(slug="assistant", name="Assistant", instructions="Helps.", model="scripted/gpt-test")


def test_run_the_research_workflow_from_the_chat(person, assistant, openai_server, daphne_url, browser):  # noqa: F811
    from agents.models import ToolCallGate
    from workflows.models import WorkflowRun

    openai_server.respond_with(_answer)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(90_000)
    page.goto(f"{daphne_url}/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    page.wait_for_function("document.getElementById('agent-select').value !== ''")
    page.wait_for_function("!document.getElementById('send').disabled")
    page.get_by_label("Message", exact=True).fill("tide pools")
    page.get_by_role("button", name="Research").click()

    card = page.get_by_role("form", name="Approve the outline?")
    card.wait_for()
    assert "Who lives there" in card.inner_text()
    run = page.locator(".workflow-run")
    run.locator(".tool.done", has_text="gather-notes").wait_for()
    run.locator(".tool.done", has_text="draft-outline").wait_for()
    run.locator(".tool.waiting", has_text="approve-outline").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "workflow-approval.png"), full_page=True)
    card.get_by_role("button", name="Approve").click()
    run.locator(".body strong", has_text="Tide pools").wait_for()
    run.locator(".tool.done", has_text="write-report").wait_for()
    assert page.locator(".workflow-approval").count() == 0
    page.screenshot(path=str(SHOTS / "workflow-report.png"), full_page=True)

    # A second run, declined with a reason.
    page.get_by_label("Message", exact=True).fill("kelp forests")
    page.get_by_role("button", name="Research").click()
    second = page.locator(".workflow-run").nth(1)
    card = second.get_by_role("form", name="Approve the outline?")
    card.wait_for()
    card.get_by_label("Reason (for a decline)").fill("too short")
    card.get_by_role("button", name="Decline").click()
    second.locator(".body", has_text="Declined: too short").wait_for()
    assert page.locator("#notice.error-box").count() == 0

    def stored() -> tuple[dict[str, Any], dict[str, str]]:
        try:
            runs = {
                (r.input or {})["topic"]: (r.status, r.output)
                for r in WorkflowRun.objects.filter(workflow_id="research")
            }
            gates = {g.input["data"]["topic"]: g.status for g in ToolCallGate.objects.all()}
            return runs, gates
        finally:
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:  # the ORM refuses to run under Playwright's event loop
        runs, gates = pool.submit(stored).result()
    assert runs["tide pools"][0] == "success"
    assert runs["kelp forests"][1]["reason"] == "too short"
    assert gates == {"tide pools": "approved", "kelp forests": "declined"}
