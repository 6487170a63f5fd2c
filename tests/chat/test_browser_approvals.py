"""A person in headless Chromium approves a tool call in the chat, after reloading while the
run waits, then declines one with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.chat.test_browser import SHOTS, browser, person  # noqa: F401  (fixtures)
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]


def _sign_in(page: Any, daphne_url: str, user: Any) -> None:
    page.goto(f"{daphne_url}/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    page.wait_for_function("document.getElementById('agent-select').value === 'demo'")


def _ask(page: Any, text: str) -> None:
    page.wait_for_function("!document.getElementById('send').disabled")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(text)
    prompt.press("Enter")


def test_approve_after_a_reload_then_decline_once(person, demo_agent, openai_server, daphne_url, browser):  # noqa: F811
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m4"}, id="b4")]),
        ChatReply(text="**m4** is booked for you."),
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m8"}, id="b8")]),
        ChatReply(text="I did not book m8."),
    )
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)  # a fresh server loads its embedder when it first writes memory
    _sign_in(page, daphne_url, person)
    _ask(page, "Book m4 for me")
    card = page.get_by_role("form", name="Approve: Booking the machine…")
    card.wait_for()
    assert json.loads(card.locator(".tool-arguments").inner_text()) == {"machine": "m4"}
    chip = page.locator(".message.assistant .tool.waiting")
    chip.wait_for()
    assert "Booking the machine…" in chip.inner_text()
    page.wait_for_function("!document.getElementById('send').disabled")  # the run waits; the page is idle

    # A reload while the run waits: the card comes back from the stored state.
    page.reload()
    page.locator(".message.user", has_text="Book m4 for me").wait_for()
    card = page.get_by_role("form", name="Approve: Booking the machine…")
    card.wait_for()
    assert json.loads(card.locator(".tool-arguments").inner_text()) == {"machine": "m4"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "approval-card.png"), full_page=True)
    card.get_by_role("button", name="Approve").click()
    page.locator(".message.assistant .body strong", has_text="m4").wait_for()
    page.locator(".message.assistant .tool.done", has_text="Booking the machine").wait_for()
    assert page.locator(".tool-prompt").count() == 0
    assert page.locator("#notice.error-box").count() == 0

    # Declined once, with a reason: the chip says so and the model heard why.
    _ask(page, "Now book m8")
    card = page.get_by_role("form", name="Approve: Booking the machine…")
    card.wait_for()
    assert json.loads(card.locator(".tool-arguments").inner_text()) == {"machine": "m8"}
    card.get_by_label("Reason (optional)").fill("m8 is reserved")
    card.get_by_role("button", name="Decline").click()
    page.locator(".message.assistant .body", has_text="I did not book m8.").wait_for()
    page.locator(".message.assistant .tool.declined", has_text="Booking the machine").wait_for()
    assert page.locator(".tool-prompt").count() == 0
    page.screenshot(path=str(SHOTS / "approval-declined.png"), full_page=True)
    refusal = openai_server.chat_requests[-1].messages[-1]
    assert refusal["role"] == "tool"
    assert "m8 is reserved" in refusal["content"]

    # A new message while a call waits declines it: the card closes, the chip says so.
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m9"}, id="b9")]),
        ChatReply(text="Something else, then."),
    )
    _ask(page, "Book m9")
    page.get_by_role("form", name="Approve: Booking the machine…").wait_for()
    _ask(page, "Never mind")
    page.locator(".message.assistant .body", has_text="Something else, then.").wait_for()
    assert page.locator(".tool-prompt").count() == 0
    assert page.locator(".message.assistant .tool.declined").count() == 2

    # The stored thread shows each call as it ended.
    page.wait_for_function("!document.getElementById('send').disabled")
    page.reload()
    page.locator(".message.assistant .body", has_text="I did not book m8.").wait_for()
    chips = page.locator(".message.assistant .tool")
    assert chips.evaluate_all("items => items.map((i) => i.dataset.state)") == [
        "done",
        "declined",
        "declined",
    ]
    assert page.locator(".tool-prompt").count() == 0


def test_a_call_approved_elsewhere_continues_in_the_open_chat(
    person,  # noqa: F811
    demo_agent,
    openai_server,
    daphne_url,
    browser,  # noqa: F811
):
    """Approved through the REST route (as in the admin, whose worker task continues the run the
    same way) while the chat is open: the answer streams into the bubble the run stopped in,
    live and after a reload."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    from tests.chat.helpers import token_for

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread: the ORM goes to another
        token = pool.submit(token_for, person).result()
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m5"}, id="b5")]),
        ChatReply(text="**m5** is booked from afar."),
        ChatReply(tool_calls=[ToolCall(name="chat_book_machine", arguments={"machine": "m6"}, id="b6")]),
        ChatReply(text="**m6** is booked too."),
    )
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(90_000)
    _sign_in(page, daphne_url, person)

    def approve_elsewhere(tool_call_id: str) -> None:
        run_id = page.locator(".message.assistant").last.get_attribute("data-run-id")
        answer = httpx.post(
            f"{daphne_url}/api/agents/demo/approve-tool-call-generate",
            json={"runId": run_id, "toolCallId": tool_call_id},
            headers={"Authorization": f"Token {token}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text

    _ask(page, "Book m5 for me")
    page.get_by_role("form", name="Approve: Booking the machine…").wait_for()
    page.wait_for_function("!document.getElementById('send').disabled")
    approve_elsewhere("b5")
    page.locator(".message.assistant .body strong", has_text="m5").wait_for()
    page.locator(".message.assistant .tool.done", has_text="Booking the machine").wait_for()
    assert page.locator(".tool-prompt").count() == 0
    assert page.locator(".message.assistant").count() == 1

    # After a reload the run's bubble comes from the stored thread; the continuation joins it.
    _ask(page, "Now m6")
    page.get_by_role("form", name="Approve: Booking the machine…").wait_for()
    page.wait_for_function("!document.getElementById('send').disabled")
    page.reload()
    page.get_by_role("form", name="Approve: Booking the machine…").wait_for()
    approve_elsewhere("b6")
    page.locator(".message.assistant .body strong", has_text="m6").wait_for()
    page.wait_for_function("!document.getElementById('send').disabled")
    assert page.locator(".tool-prompt").count() == 0
    assert page.locator(".message.assistant").count() == 2
    assert page.locator(".message.user").count() == 2
    assert page.locator("#notice.error-box").count() == 0
