"""Approval across real server processes: a restart between request and decision, concurrent
decisions on two processes, a provider that is down when the decision arrives."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.db import connection

from agents.models import Run, ToolCallGate
from tests.agents import ledger_tool  # noqa: F401  (registers the tool here too, for the allowlist)
from tests.chat.helpers import token_for
from tests.fakes.openai_server import ChatReply, Fault, ToolCall
from tests.servers import DaphneServer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.txt"
    path.write_text("")
    monkeypatch.setenv("LEDGER_PATH", str(path))
    return path


def _server(openai_server: Any) -> DaphneServer:
    return DaphneServer(
        db_name=connection.settings_dict["NAME"],
        scripted_base_url=openai_server.base_url,
        env={"DJANGO_SETTINGS_MODULE": "tests.agents.server_settings"},
    ).start()


def _suspend(server: DaphneServer, headers: dict[str, str], openai_server: Any) -> str:
    openai_server.script(
        ChatReply(tool_calls=[ToolCall(id="pay-1", name="ledger_write", arguments={"amount": 70})])
    )
    response = httpx.post(
        f"{server.url}/api/agents/payer/generate", json={"prompt": "pay 70"}, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "suspended"
    return str(response.json()["runId"])


@pytest.fixture
def payer(make_agent: Any) -> Any:
    return make_agent(slug="payer", tools=["ledger_write"])


def test_an_approval_continues_the_run_after_the_process_that_started_it_was_killed(
    openai_server: Any, user: Any, payer: Any, ledger: Path
) -> None:
    headers = {"authorization": f"Token {token_for(user)}"}
    first = _server(openai_server)
    try:
        run_id = _suspend(first, headers, openai_server)
        first.kill()
    finally:
        first.stop()
    assert ledger.read_text() == ""

    openai_server.script(ChatReply(text="Paid 70."))
    second = _server(openai_server)
    try:
        with httpx.stream(
            "POST",
            f"{second.url}/api/agents/payer/approve-tool-call",
            json={"runId": run_id, "toolCallId": "pay-1", "reason": "fine"},
            headers=headers,
            timeout=30,
        ) as response:
            assert response.status_code == 200
            assert response.headers["x-vercel-ai-ui-message-stream"] == "v1"
            lines = [line for line in response.iter_lines() if line.startswith("data: ")]
        again = httpx.post(
            f"{second.url}/api/agents/payer/approve-tool-call",
            json={"runId": run_id, "toolCallId": "pay-1"},
            headers=headers,
            timeout=30,
        )
    finally:
        second.stop()
    chunks = [json.loads(line[6:]) for line in lines if line != "data: [DONE]"]
    assert chunks[0] == {
        "type": "start",
        "messageId": run_id,
        "messageMetadata": chunks[0]["messageMetadata"],
    }
    assert {
        "type": "tool-output-available",
        "toolCallId": "pay-1",
        "output": {"amount": 70, "key": f"{run_id}:pay-1"},
    } in chunks
    assert "".join(c["delta"] for c in chunks if c["type"] == "text-delta") == "Paid 70."
    assert again.status_code == 409
    assert again.json()["details"]["decision"]["reason"] == "fine"
    assert ledger.read_text().splitlines() == [f"{run_id}:pay-1 70"]  # once, and never again
    assert Run.objects.get(id=run_id).status == "completed"


def test_concurrent_approvals_on_two_processes_have_one_winner(
    openai_server: Any, user: Any, payer: Any, ledger: Path
) -> None:
    headers = {"authorization": f"Token {token_for(user)}"}
    servers = [_server(openai_server), _server(openai_server)]
    try:
        run_id = _suspend(servers[0], headers, openai_server)
        openai_server.always(ChatReply(text="Paid."))
        barrier = threading.Barrier(8)
        answers: list[int] = []

        def approve(index: int) -> None:
            with httpx.Client(timeout=30) as client:
                barrier.wait()
                response = client.post(
                    f"{servers[index % 2].url}/api/agents/payer/approve-tool-call-generate",
                    json={"runId": run_id, "toolCallId": "pay-1"},
                    headers=headers,
                )
                answers.append(response.status_code)

        threads = [threading.Thread(target=approve, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for server in servers:
            server.stop()
    assert sorted(answers) == [200] + [409] * 7
    assert ledger.read_text().splitlines() == [f"{run_id}:pay-1 70"]
    assert Run.objects.get(id=run_id).status == "completed"


def test_a_provider_down_at_decision_time_fails_the_run_clearly_and_nothing_runs_twice(
    openai_server: Any, user: Any, payer: Any, ledger: Path
) -> None:
    headers = {"authorization": f"Token {token_for(user)}"}
    server = _server(openai_server)
    try:
        run_id = _suspend(server, headers, openai_server)
        openai_server.always(Fault(status=503, message="provider down"))
        decided = httpx.post(
            f"{server.url}/api/agents/payer/approve-tool-call-generate",
            json={"runId": run_id, "toolCallId": "pay-1"},
            headers=headers,
            timeout=30,
        )
        openai_server.always(ChatReply(text="Paid."))
        retried = httpx.post(
            f"{server.url}/api/agents/payer/approve-tool-call-generate",
            json={"runId": run_id, "toolCallId": "pay-1"},
            headers=headers,
            timeout=30,
        )
    finally:
        server.stop()
    assert decided.status_code == 502, decided.text
    assert set(decided.json()) == {"code", "message", "details"}
    run = Run.objects.get(id=run_id)
    assert (run.status, run.error["status"]) == ("failed", 502)
    assert ToolCallGate.objects.get(run=run).status == "approved"  # the decision is kept
    assert retried.status_code == 409
    assert ledger.read_text().splitlines() == [f"{run_id}:pay-1 70"]  # the tool ran once
