"""The example shipped with `make run`: research a topic with a human approving the outline.

An agent gathers notes, another drafts an outline from them, a person approves the outline
(in the chat UI, over REST or in the admin), and the agent writes the report, kept with the
run and, where storage is configured, as `report.md` in the run's workspace. A declined
outline ends the run with the reason instead of a report.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from workflows import artifacts
from workflows.context import StepContext
from workflows.definition import RetryPolicy, Workflow, step
from workflows.steps import AgentAnswer, Approval, agent_generate, agent_step, approval_step

AGENT = "assistant"
RETRY = RetryPolicy(attempts=3, backoff_s=2.0)


class Topic(BaseModel):
    topic: str = Field(min_length=1, max_length=500)


class Notes(BaseModel):
    topic: str
    notes: str
    outline: str


class Report(BaseModel):
    topic: str
    approved: bool
    report: str = ""
    reason: str = ""
    # Where storage is configured: the report as `report.md` in the run's workspace.
    artifact: dict[str, Any] | None = None


gather = agent_step(
    id="gather-notes",
    agent=AGENT,
    input=Topic,
    prompt=lambda d: f"Gather short research notes, as bullet points, on: {d.topic}",
    retry=RETRY,
)
outline = agent_step(
    id="draft-outline",
    agent=AGENT,
    input=Topic,
    prompt=lambda d: f"Draft a three-part outline for a short report on: {d.topic}",
    retry=RETRY,
)


def _notes(data: dict[str, Any], ctx: Any) -> dict[str, Any]:
    return {
        "topic": ctx.init["topic"],
        "notes": data["gather-notes"]["text"],
        "outline": data["draft-outline"]["text"],
    }


approve = approval_step(
    id="approve-outline",
    input=Notes,
    question=lambda d: f"Approve this outline for the report on {d.topic!r}?\n\n{d.outline}",
)


@step(id="write-report", input=Approval, output=Report, retry=RETRY)
def write_report(data: Approval, ctx: StepContext) -> Report:
    """Writes the report from the approved outline (or records why it was declined)."""
    notes = Notes.model_validate(data.data)
    if not data.approved:
        return Report(topic=notes.topic, approved=False, reason=data.reason)
    ctx.write({"message": "writing the report"})
    result = agent_generate(
        ctx,
        agent=AGENT,
        prompt=f"Write a short report on {notes.topic}.\nOutline:\n{notes.outline}\nNotes:\n{notes.notes}",
    )
    artifact = None
    if artifacts.storage_configured():
        artifact = artifacts.write(
            run_id=ctx.run_id,
            path=ctx.path,
            name="report.md",
            body=f"# {notes.topic}\n\n{result.text}\n".encode(),
            content_type="text/markdown",
        )
    return Report(topic=notes.topic, approved=True, report=result.text, artifact=artifact)


research = (
    Workflow(
        id="research",
        input=Topic,
        output=Report,
        version="2",
        description="Gathers notes and an outline, waits for a person to approve it, writes the report.",
    )
    .parallel([gather, outline])
    .map(_notes, id="notes")
    .then(approve)
    .then(write_report)
    .commit()
)

__all__ = ["AgentAnswer", "research"]
