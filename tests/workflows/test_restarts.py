"""A run outlives its processes: started through one web process and worker, both killed,
resumed and watched through a new web process while a new worker finishes it."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from rest_framework.authtoken.models import Token

from tests.servers import DaphneServer
from tests.workflows.worker import wait_until
from workflows.models import WorkflowRun

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def web(openai_server: Any) -> DaphneServer:
    from django.db import connection

    return DaphneServer(
        db_name=connection.settings_dict["NAME"],
        scripted_base_url=openai_server.base_url,
        env={"DJANGO_SETTINGS_MODULE": "tests.workflows.server_settings"},
    ).start()


def sse(client: httpx.Client, url: str, **headers: str) -> list[dict[str, Any]]:
    events = []
    with client.stream("GET", url, headers=headers, timeout=60) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    return events


def test_resume_after_the_worker_and_the_web_process_restart(
    user: Any, openai_server: Any, workers: Any, sweeper: Any
) -> None:
    token = Token.objects.create(user=user).key
    auth = {"Authorization": f"Token {token}"}
    first_web, first_worker = web(openai_server), workers()
    with httpx.Client(base_url=first_web.url, headers=auth) as client:
        started = client.post("/api/workflows/t-suspend/start", json={"inputData": {"value": 1}})
        assert started.status_code == 200, started.text
    run = WorkflowRun.objects.get(pk=started.json()["runId"])
    wait_until(lambda: WorkflowRun.objects.get(pk=run.pk).status == "suspended", 60, "the run to suspend")
    first_worker.kill()
    first_web.kill()

    second_web, _ = web(openai_server), workers()
    try:
        with httpx.Client(base_url=second_web.url, headers=auth) as client:
            before = sse(client, f"/api/workflows/t-suspend/watch?runId={run.pk}")
            assert before[-1]["type"] == "workflow-step-suspended"  # the stream pauses at the suspension
            assert before[-1]["data"]["payload"] == {"question": "what to add to 2?"}
            resumed = client.post(
                f"/api/workflows/t-suspend/resume?runId={run.pk}",
                json={"step": "1:ask", "resumeData": {"answer": 7}},
            )
            assert resumed.status_code == 200, resumed.text
            after = sse(
                client,
                f"/api/workflows/t-suspend/watch?runId={run.pk}",
                **{"Last-Event-ID": str(before[-1]["seq"])},
            )
            assert after[0]["seq"] == before[-1]["seq"] + 1
            assert after[-1]["type"] == "workflow-finish"
            assert after[-1]["data"]["output"] == {"value": 10}
            detail = client.get(f"/api/workflows/t-suspend/runs/{run.pk}").json()
            assert (detail["status"], detail["result"]) == ("success", {"value": 10})
    finally:
        second_web.stop()
