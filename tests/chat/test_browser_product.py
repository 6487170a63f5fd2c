"""The chat UI as a product, in headless Chromium: its name, no failed request on first load,
the working-memory template before the first update, a markdown answer rendered, message
timestamps, the run's trace (spans, timings, tool input and output) inside the chat, and
the stopped marker kept after a reload."""

from __future__ import annotations

from typing import Any

import pytest

from tests.chat.test_browser import SHOTS, browser, person  # noqa: F401  (fixtures)
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

TEMPLATE = "# About you\n- Name:\n- Favourite machine:\n"
MARKDOWN = (
    "## Booking plan\n\n"
    "1. Reserve **m1** for the morning\n"
    "2. Confirm by `email`\n\n"
    "| machine | free |\n|---|---|\n| m1 | yes |\n\n"
    "```\nbook m1 --slot am\n```\n"
)


@pytest.fixture
def notes_agent(openai_server: Any, transactional_db: None) -> Any:
    from agents.services import agent_save, tools_sync
    from tests.chat import tools  # noqa: F401  (registers the tool)

    tools_sync()
    return agent_save(
        slug="notes",
        name="Notes",
        instructions="You help people book machines.",
        model="scripted/gpt-test",
        max_steps=4,
        tools=["chat_check_availability"],
        memory={"last_messages": 10, "working_memory": {"enabled": True, "template": TEMPLATE}},
    )


def test_the_chat_looks_like_a_product(person, notes_agent, openai_server, daphne_url, browser):  # noqa: F811
    openai_server.script(
        ChatReply(
            tool_calls=[ToolCall(name="chat_check_availability", arguments={"machine": "m1"}, id="c1")]
        ),
        ChatReply(text=MARKDOWN, chunk_delay_s=0.005),
        ChatReply(chunks=[f"w{i} " for i in range(400)], chunk_delay_s=0.02),
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    failures: list[str] = []
    page.on("console", lambda m: failures.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(f"{daphne_url}/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    try:
        page.wait_for_function("document.getElementById('agent-select').value === 'notes'")
    except Exception:
        raise AssertionError(f"the chat did not start: {failures}") from None
    page.wait_for_load_state("networkidle")

    # Its name, and a first load without a failed request or a console error.
    assert "Agent Platform" in page.title()
    assert page.locator(".topbar .brand").inner_text() == "Agent Platform"
    assert failures == []
    # The working memory the agent starts from, before anything was stored.
    assert page.locator("#memory-text").input_value() == TEMPLATE

    prompt = page.get_by_label("Message", exact=True)
    prompt.fill("Plan my booking")
    prompt.press("Enter")
    answer = page.locator(".message.assistant .body").last
    answer.locator("h2", has_text="Booking plan").wait_for()
    page.wait_for_function("!document.getElementById('send').disabled", timeout=120_000)
    # The markdown answer rendered: heading, ordered list, emphasis, inline code, table, code block.
    assert answer.locator("ol li").count() == 2
    assert answer.locator("ol li strong").inner_text() == "m1"
    assert answer.locator("code", has_text="email").count() == 1
    assert answer.locator("table td").all_inner_texts() == ["m1", "yes"]
    assert "book m1 --slot am" in answer.locator("pre code").inner_text()
    # Each message says when it was written.
    stamps = page.locator(".message time.stamp")
    assert stamps.count() == 2
    assert stamps.first.get_attribute("datetime")

    # The run's trace, inside the chat: spans with timings, the tool's input and output.
    tool_span = page.locator("#trace-view .span-tool").first
    tool_span.wait_for(timeout=60_000)
    assert "chat_check_availability" in tool_span.inner_text()
    assert tool_span.locator(".span-time").inner_text().endswith("ms")
    tool_text = tool_span.text_content() or ""
    assert '"machine": "m1"' in tool_text  # its input
    assert '"available": true' in tool_text  # its output
    assert page.locator("#trace-view .span").count() >= 3
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chat-product.png"), full_page=True)

    # A stopped answer keeps its marker after a reload.
    prompt.fill("Count slowly")
    prompt.press("Enter")
    page.locator(".message.assistant .body", has_text="w3").wait_for()
    page.get_by_role("button", name="Stop").click()
    stopped = page.locator(".message.assistant .status", has_text="Stopped.")
    stopped.wait_for(timeout=60_000)
    page.wait_for_function("!document.getElementById('send').disabled", timeout=120_000)
    page.reload()
    page.locator(".message.user", has_text="Count slowly").wait_for()
    page.locator(".message.assistant .status", has_text="Stopped.").wait_for()
    assert page.locator(".message time.stamp").count() == 4
    assert [f for f in failures if "/ws/" not in f] == []
