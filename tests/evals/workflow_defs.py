"""A small workflow the eval tests run as an experiment's target (registered in the test process
by tests/evals/conftest.py and in the test workers through WORKFLOW_MODULES).

`eval-triage`: classify a ticket; an urgent one is escalated by e-mail (a tool step with an
external side effect), any other gets a reply drafted by the agent `evaltriage`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from tests.evals.tools import EmailOut, send_email
from workflows.context import StepContext
from workflows.definition import Workflow, step
from workflows.steps import agent_step, tool_step


class Ticket(BaseModel):
    text: str


class Triage(BaseModel):
    text: str
    urgent: bool


class Handled(BaseModel):
    reply: str
    escalated: bool


@step(id="classify", input=Ticket, output=Triage)
def classify(data: Ticket, ctx: StepContext) -> Triage:
    return Triage(text=data.text, urgent="urgent" in data.text.lower())


def _email(data: Any, ctx: Any) -> dict[str, Any]:
    return {"to": "oncall@example.com", "body": data["text"]}


def _handled(data: Any, ctx: Any) -> dict[str, Any]:
    return {"reply": (data.get("draft") or {}).get("text", ""), "escalated": "escalate" in data}


def _urgent(data: Any) -> bool:
    return bool(data["urgent"])


def _routine(data: Any) -> bool:
    return not data["urgent"]


draft = agent_step(
    id="draft", agent="evaltriage", input=Triage, prompt=lambda d: f"Draft a reply to: {d.text}"
)
escalate = (
    Workflow(id="escalate", input=Triage, output=EmailOut)
    .map(_email, id="email")
    .then(tool_step(tool=send_email))
)
triage = (
    Workflow(id="eval-triage", input=Ticket, output=Handled, version="1", description="Triage a ticket.")
    .then(classify)
    .branch([(_urgent, escalate), (_routine, draft)])
    .map(_handled, id="handled")
    .commit()
)
