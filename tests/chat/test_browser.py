"""A person in headless Chromium: signs in, chats, sees the tool label and the answer, reloads."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.fixture
def browser() -> Any:
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run scripts/test-setup.d/40-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def person(user: Any) -> Any:
    user.set_password("a-long-test-password")
    user.save()
    return user


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 800, "desktop"), (390, 844, "phone")])
def test_sign_in_chat_and_find_the_thread_again(
    person, demo_agent, openai_server, daphne_url, browser, width, height, name
):
    # `browser` comes last: Playwright's sync API runs an event loop, and the ORM refuses to run under one.
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(name="chat_check_availability", arguments={"machine": "m1"})]),
        ChatReply(text="**Machine m1** is free.\n\n- morning\n- afternoon", chunk_delay_s=0.01),
    )
    page = browser.new_page(viewport={"width": width, "height": height})
    page.goto(f"{daphne_url}/")
    assert "/login/" in page.url
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    page.wait_for_function("document.getElementById('agent-select').value === 'demo'")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Is m1 free? <img src=x onerror=alert(1)>")
    prompt.press("Enter")
    tool = page.locator(".message.assistant .tool").first
    tool.wait_for()
    assert tool.inner_text().rstrip("…").endswith("Checking machine availability")  # running, or done
    answer = page.locator(".message.assistant .body strong", has_text="Machine m1")
    answer.wait_for()
    page.locator(".message.assistant .body li", has_text="afternoon").wait_for()
    # The user's text is shown as text, never as HTML.
    assert page.locator(".message.user img").count() == 0
    page.wait_for_function("!document.getElementById('send').disabled")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"chat-{name}.png"), full_page=True)

    # The open thread is in the address: a reload comes back to the same conversation.
    assert "thread=" in page.url
    page.reload()
    page.locator(".message.assistant .body", has_text="Machine m1").wait_for()
    page.locator(".message.user", has_text="Is m1 free?").wait_for()
    stored_tool = page.locator(".message.assistant .tool.done").first
    stored_tool.wait_for()  # the stored tool call, with its declared label
    assert stored_tool.inner_text().endswith("Checking machine availability")  # ended: no "…"
    if width < 760:
        page.get_by_role("button", name="Memory", exact=True).click()
    trace = page.locator("#trace-view .span-tool", has_text="chat_check_availability")
    trace.wait_for()  # the thread's last run, found from its stored messages, traced in the panel
    assert '"machine": "m1"' in (trace.text_content() or "")
    if width < 760:
        page.get_by_role("button", name="Memory", exact=True).click()
    # And the thread list leads back to it from a new thread.
    if width < 760:
        page.get_by_role("button", name="Threads").click()
    page.get_by_role("button", name="New thread").click()
    assert "thread=" not in page.url
    assert page.locator(".message").count() == 0
    if width < 760:
        page.get_by_role("button", name="Threads").click()
    thread = page.locator("#thread-list button").first
    thread.wait_for()
    thread.click()
    page.locator(".message.assistant .body", has_text="Machine m1").wait_for()


def test_a_reload_during_a_run_keeps_the_thread(person, demo_agent, openai_server, daphne_url, browser):
    # The run is recorded when it ends; until then the thread (with the user's message) is
    # what a reload finds, and it stays open without an error.
    words = [f"w{i} " for i in range(300)]
    openai_server.script(ChatReply(chunks=words, chunk_delay_s=0.01))
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{daphne_url}/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Count for me")
    prompt.press("Enter")
    page.locator(".message.assistant .body", has_text="w1").wait_for()
    refused: list[str] = []

    def answered(response: Any) -> None:
        if response.status >= 400:
            refused.append(f"{response.status} {response.url}")

    page.on("response", answered)
    page.reload()
    page.locator(".message.user", has_text="Count for me").wait_for()
    page.wait_for_load_state("networkidle")  # the thread's requests have all been answered
    assert "thread=" in page.url
    assert page.locator("#notice.error-box").count() == 0
    # The reloaded page can stop the run it follows.
    page.locator("#stop").wait_for(state="visible")
    # The run goes on streaming into the reloaded page, from its first word (the frames sent
    # before the reload are replayed).
    page.locator(".message.assistant .body", has_text="w299").wait_for()
    answer = page.locator(".message.assistant .body").last.inner_text()
    assert answer.split() == [f"w{i}" for i in range(300)]
    page.locator("#stop").wait_for(state="hidden")
    page.locator("#trace-view .span").first.wait_for()  # drawn once the run's trace is stored
    assert "not available" not in page.locator("#trace-view").inner_text()
    assert refused == []  # no request of the page was refused (the trace is not asked for too early)


def test_a_second_tab_on_the_thread_shows_the_question_and_can_stop_the_run(
    person, demo_agent, openai_server, daphne_url, browser
):
    words = [f"v{i} " for i in range(300)]
    openai_server.script(ChatReply(text="First answer."), ChatReply(chunks=words, chunk_delay_s=0.01))
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(f"{daphne_url}/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("First question")
    prompt.press("Enter")
    page.locator(".message.assistant .body", has_text="First answer.").wait_for()
    page.wait_for_function("!document.getElementById('send').disabled")
    tab = context.new_page()  # the same session, on the same thread
    tab.goto(page.url)
    tab.locator(".message.assistant .body", has_text="First answer.").wait_for()
    tab.wait_for_load_state("networkidle")

    prompt.fill("Second question")
    prompt.press("Enter")
    tab.locator(".message.assistant .body", has_text="v1").wait_for()
    tab.locator(".message.user", has_text="Second question").wait_for()
    tab.locator("#stop").wait_for(state="visible")
    tab.locator(".message.assistant .body", has_text="v299").wait_for()
    assert tab.locator(".message.user .body").all_inner_texts() == [
        "First question",
        "Second question",
    ]
    tab.locator("#stop").wait_for(state="hidden")
