"""The admin chart of each scorer over an agent's recent experiments and versions: ECharts
served from static/vendor (never a CDN), the figures it is drawn from, and a real browser drawing it."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from agents.services import agent_save
from evals.services import experiments as services
from evals.services.datasets import dataset_import
from tests.fakes.openai_server import ChatReply

ROOT = Path(__file__).resolve().parents[2]
CASES = [
    {"name": "capital", "input": "Capital of France?", "expected_output": "Paris"},
    {"name": "greeting", "input": "Say hello", "expected_output": "hello"},
]


def respond(body: dict[str, Any]) -> ChatReply:
    system, question = body["messages"][0]["content"], body["messages"][-1]["content"]
    if "Capital" in question:
        return ChatReply(text="Lyon." if "tersely" in system else "It is Paris.")
    return ChatReply(text="hello")


def history(actor: Any, openai_server: Any) -> list[Any]:
    """Three experiments: version 1, version 2 (which breaks one case), version 1 again."""
    openai_server.respond_with(respond)
    agent_save(
        slug="evalbot", name="Eval bot", instructions="You answer.", model="scripted/gpt-test", tools=[]
    )
    agent_save(slug="evalbot", name="Eval bot", instructions="You answer tersely.", model="scripted/gpt-test")
    dataset = dataset_import(actor=actor, data={"name": "chart", "cases": CASES})
    made = []
    for version in (1, 2, 1):
        experiment = services.experiment_start(
            actor=actor,
            dataset_id=dataset.pk,
            agent_id="evalbot",
            agent_version=version,
            scorers=[{"scorer": "contains"}, {"scorer": "latency", "max_ms": 60000}],
            enqueue=lambda _id: None,
        )
        services.experiment_drain(experiment_id=experiment.pk)
        made.append(experiment)
    return made


def chart_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script id="scores-chart-data" type="application/json">(.*?)</script>', page, re.S)
    assert match, page
    data: dict[str, Any] = json.loads(match.group(1))
    return data


@pytest.mark.django_db
def test_the_chart_page_draws_each_scorer_over_the_agents_versions_with_a_local_echarts(
    admin_client, admin_user, openai_server
):
    from core.access import Actor
    from core.tenancy import tenant_for_user

    actor = Actor.system(tenant_id=tenant_for_user(admin_user).pk)
    first, second, third = history(actor, openai_server)
    changelist = admin_client.get(reverse("admin:evals_experiment_changelist")).content.decode()
    url = reverse("admin:evals_experiment_chart")
    assert url in changelist
    page = admin_client.get(url + "?agent=evalbot").content.decode()
    assert 'import * as echarts from "/static/vendor/echarts.esm.min.js";' in page
    assert "//cdn" not in page
    assert "https://" not in page.split("<body")[1]
    data = chart_data(page)
    assert data["labels"] == [
        f"#{first.pk} v1 (chart v1)",
        f"#{second.pk} v2 (chart v1)",
        f"#{third.pk} v1 (chart v1)",
    ]
    contains = next(s for s in data["series"] if s["name"] == "contains")
    assert contains["values"] == [1.0, 0.5, 1.0]  # the regression of version 2, visible at a glance
    assert {s["name"] for s in data["series"]} == {"contains", "latency"}
    assert reverse("admin:evals_experiment_change", args=[second.pk]) in page
    # The library is the pinned npm file, served by this project.
    served = finders.find("vendor/echarts.esm.min.js")
    assert served
    assert 'version:"6.1.0"' in Path(served).read_text()
    package = json.loads((ROOT / "frontend" / "package.json").read_text())
    assert package["dependencies"]["echarts"] == "6.1.0"
    # Another dataset's experiments are left out.
    other = admin_client.get(url + "?agent=evalbot&dataset=other").content.decode()
    assert "No completed experiment of evalbot yet." in other
    assert "scores-chart-data" not in other


@pytest.mark.django_db(transaction=True)
@pytest.mark.browser
@pytest.mark.slow
def test_a_browser_draws_the_chart(live_server, admin_user, openai_server):
    from core.access import Actor
    from core.tenancy import tenant_for_user

    admin_user.set_password("a-long-test-password")
    admin_user.save()
    history(Actor.system(tenant_id=tenant_for_user(admin_user).pk), openai_server)
    if not os.path.exists("/usr/bin/chromium"):
        pytest.fail("Chromium is missing: run scripts/test-setup.d/40-chromium.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"], headless=True)
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda request: requests.append(request.url))
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{live_server.url}{reverse('admin:login')}?next={reverse('admin:evals_experiment_chart')}")
        page.fill("#id_username", admin_user.username)
        page.fill("#id_password", "a-long-test-password")
        page.click("input[type=submit]")
        page.wait_for_selector("#scores-chart[data-series='2'] canvas", timeout=30000)
        box = page.locator("#scores-chart canvas").bounding_box()
        browser.close()
    assert errors == []
    assert box is not None
    assert box["width"] > 300
    assert box["height"] > 300
    assert all(url.startswith(live_server.url) for url in requests), requests


@pytest.mark.django_db
def test_the_chart_shows_another_tenants_experiments_only_when_that_tenant_is_chosen(
    admin_client, admin_user, openai_server
):
    from core.access import Actor
    from tests.factories import TenantFactory

    other: Any = TenantFactory()
    history(Actor.system(tenant_id=other.pk), openai_server)
    url = reverse("admin:evals_experiment_chart")
    own = admin_client.get(url).content.decode()
    assert "no experiments yet." in own
    assert f'href="?tenant={other.slug}"' in own
    page = admin_client.get(f"{url}?tenant={other.slug}&agent=evalbot").content.decode()
    contains = next(s for s in chart_data(page)["series"] if s["name"] == "contains")
    assert contains["values"] == [1.0, 0.5, 1.0]
