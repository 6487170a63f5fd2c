"""Inline charts in headless Chromium: the demo conversation draws its chart in the answer at
the marker's place, a reload draws it again, a forgotten marker and a failed planner as well."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.chat.test_browser import SHOTS, browser, person  # noqa: F401  (fixtures)
from tests.fakes.openai_server import ChatReply, Fault, ToolCall
from tests.fakes.responders import chart_plan_for, demo_responder

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser, pytest.mark.slow]

ROWS = [{"team": "Ops", "tickets": 12}, {"team": "Web", "tickets": 30}, {"team": "Data", "tickets": 21}]

# How many of the chart canvas's pixels are drawn (not blank): ECharts paints on a transparent canvas.
DRAWN_PIXELS = """(frame) => {
  const canvas = frame.querySelector("canvas");
  if (!canvas) return 0;
  const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  let drawn = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
  return drawn;
}"""


@pytest.fixture
def chart_agent(openai_server: Any, transactional_db: None) -> Any:
    from agents.services import agent_save, tools_sync
    from agents.tools import ToolkitUse

    tools_sync()
    return agent_save(
        slug="demo",
        name="Demo",
        instructions="You chart things.",
        model="scripted/gpt-test",
        max_steps=4,
        toolkits=[ToolkitUse(toolkit="agents", only=("demo_sales",))],
    )


def _sign_in(page: Any, daphne_url: str, person: Any) -> None:  # noqa: F811
    page.goto(f"{daphne_url}/")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill("a-long-test-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{daphne_url}/")
    page.wait_for_function("document.getElementById('agent-select').value === 'demo'")


def _ask(page: Any, text: str) -> None:
    prompt = page.get_by_label("Message", exact=True)
    prompt.fill(text)
    prompt.press("Enter")


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


def test_the_demo_chart_is_drawn_in_the_answer_at_its_marker(
    person,  # noqa: F811  (fixture)
    chart_agent,
    openai_server,
    daphne_url,
    browser,  # noqa: F811  (fixture)
):
    openai_server.respond_with(demo_responder)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _sign_in(page, daphne_url, person)
    _ask(page, "Show me a chart of the demo sales")

    answer = page.locator(".message.assistant .body").last
    frame = answer.locator(".chart-frame")
    frame.wait_for()
    answer.locator('.chart-frame[data-state="rendered"]').wait_for(timeout=20_000)
    # The run ends once its messages are stored (a cold process loads its embedder first).
    page.wait_for_function("!document.getElementById('send').disabled", timeout=120_000)
    assert errors == []  # no script error
    page.wait_for_function(f"({DRAWN_PIXELS})(document.querySelector('.chart-frame')) > 2000")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "chart-inline.png"), full_page=True)

    assert frame.evaluate(DRAWN_PIXELS) > 2000
    before = answer.locator("p", has_text="Here is the demo shop's revenue by month")
    after = answer.locator("p", has_text="Revenue is highest in")
    frame_box, before_box, after_box = _box(frame), _box(before), _box(after)
    assert before_box["y"] + before_box["height"] <= frame_box["y"]
    assert frame_box["y"] + frame_box["height"] <= after_box["y"]
    assert abs(frame_box["height"] - 320) < 2  # the frame's fixed height
    assert "[chart:" not in answer.inner_text()

    # After a reload the stored answer's marker resolves again from the cache.
    page.reload()
    redrawn = page.locator('.message.assistant .body .chart-frame[data-state="rendered"]')
    redrawn.wait_for(timeout=20_000)
    page.wait_for_function(f"({DRAWN_PIXELS})(document.querySelector('.chart-frame')) > 2000")
    # The stored tool calls keep their labels: a toolkit's tool and the ambient one.
    labels = page.locator(".message.assistant .tool").all_inner_texts()
    assert labels[0].endswith("Fetching the demo sales")  # ended: the label without its "…"
    assert labels[1].endswith("Preparing a chart")
    reloaded = page.locator(".message.assistant .body").last
    assert _box(reloaded.locator("p", has_text="Revenue is highest in"))["y"] >= _box(redrawn)["y"] + 320

    # On a phone's width the chart is drawn again within the narrower frame.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function(f"({DRAWN_PIXELS})(document.querySelector('.chart-frame')) > 2000")
    assert _box(redrawn)["width"] <= 390
    page.screenshot(path=str(SHOTS / "chart-phone.png"), full_page=True)


def test_a_forgotten_marker_goes_at_the_end_and_a_failed_planner_says_unavailable(
    person,  # noqa: F811
    chart_agent,
    openai_server,
    daphne_url,
    browser,  # noqa: F811
):
    call = ToolCall(name="render_data", arguments={"title": "Tickets per team", "data": ROWS})
    openai_server.script(
        ChatReply(tool_calls=[call]),
        ChatReply(text=json.dumps(chart_plan_for({"title": "Tickets per team", "rows": ROWS}))),
        ChatReply(text="Web has the most tickets.\n\nOps has the fewest."),
        ChatReply(tool_calls=[call]),
        Fault(status=400, message="planner refused"),
        ChatReply(text="Here is a chart that will not come."),
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, daphne_url, person)
    _ask(page, "Chart the tickets")
    first = page.locator(".message.assistant .body").nth(0)
    first.locator('.chart-frame[data-state="rendered"]').wait_for(timeout=120_000)
    page.wait_for_function("!document.getElementById('send').disabled", timeout=120_000)
    last_paragraph = first.locator("p", has_text="Ops has the fewest")
    assert (
        _box(last_paragraph)["y"] + _box(last_paragraph)["height"] <= _box(first.locator(".chart-frame"))["y"]
    )

    _ask(page, "Chart them again")
    second = page.locator(".message.assistant .body").nth(1)
    unavailable = second.locator('.chart-frame[data-state="unavailable"]')
    unavailable.wait_for(timeout=20_000)
    assert unavailable.inner_text().strip() == "Chart unavailable"
    assert abs(_box(unavailable)["height"] - 320) < 2
    assert page.locator("#notice.error-box").count() == 0
