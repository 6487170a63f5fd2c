"""A person in headless Chromium answers a suspended tool's prompt: the form generated from its
resume schema shows the server's field error for data the schema refuses, then resumes the run."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from agents.models import Run, ToolCallGate
from core.db import releasing
from tests.chat.test_browser import SHOTS, browser, person  # noqa: F401  (fixtures)
from tests.chat.test_browser_approvals import _ask, _sign_in
from tests.fakes.openai_server import ChatReply, ToolCall


def _db(read: Callable[[], Any]) -> Any:
    """An ORM read from another thread: Playwright's sync API runs an event loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(releasing(read)).result()


pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def test_a_suspension_form_refuses_bad_data_by_field_then_resumes_the_run(
    person,  # noqa: F811
    demo_agent,
    openai_server,
    daphne_url,
    browser,  # noqa: F811
):
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_pick_slot", arguments={"machine": "m2"}, id="s2")]),
        ChatReply(text="**m2** is yours at 14:00."),
    )
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)  # a fresh server loads its embedder when it first writes memory
    _sign_in(page, daphne_url, person)
    _ask(page, "Reserve m2")
    prompt = page.get_by_role("form", name="Picking a slot… needs your input")
    prompt.wait_for()
    assert prompt.locator(".tool-prompt-message").inner_text() == "Which slot for m2?"
    page.locator(".message.assistant .tool.waiting", has_text="Picking a slot…").wait_for()
    field = prompt.get_by_role("textbox")
    assert field.get_attribute("name") == "slot"

    # Data the resume schema refuses: the field says why, the run still waits.
    field.fill("9am")
    prompt.get_by_role("button", name="Continue").click()
    error = prompt.locator(".field-error")
    error.wait_for()
    assert error.inner_text().startswith("slot: String should match pattern")
    assert field.get_attribute("aria-invalid") == "true"
    assert prompt.locator(".tool-prompt-status").inner_text() == (
        "The resume data does not match the tool's resume schema."
    )
    run_id = page.locator(".message.assistant").last.get_attribute("data-run-id")
    gate = _db(lambda: ToolCallGate.objects.select_related("run").get(tool_call_id="s2", run__user=person))
    assert (gate.status, gate.run.status) == ("pending", "suspended")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "suspension-field-error.png"), full_page=True)

    # Valid data resumes the run: the tool runs with it and the answer streams into the bubble.
    field.fill("14:00")
    prompt.get_by_role("button", name="Continue").click()
    # The bubble stops streaming at the run's end, which comes after its outcome is stored.
    page.locator(".message.assistant .body:not(.streaming) strong", has_text="m2").wait_for()
    page.locator(".message.assistant .tool.done", has_text="Picking a slot").wait_for()
    assert page.locator(".tool-prompt").count() == 0
    assert page.locator("#notice.error-box").count() == 0
    gate = _db(lambda: ToolCallGate.objects.get(id=gate.id))
    assert (gate.status, gate.resume_data) == ("resumed", {"slot": "14:00"})
    run = _db(lambda: Run.objects.get(id=gate.run_id))
    assert run.status == "completed"
    assert run_id == str(run.id)  # the bubble names the stored run
    tool_message = next(m for m in openai_server.chat_requests[-1].messages if m["role"] == "tool")
    assert "14:00" in tool_message["content"]
