"""Workflow runs over the chat WebSocket: start, watch (numbered events from an offset) and
resume. The consumer (`chat.consumers`) stays thin; the owner model is the REST API's (another
owner's run answers `not_found`, exactly like one that does not exist).

A watch sends `{"type": "workflow-event", "runId", "workflowId", "seq", "event": {seq, type,
path, data}}` for each event after the offset, and keeps following a run that is suspended
or waiting (unlike SSE, the socket stays open while a person decides), until it has sent the
run's terminal event (`workflow-finish`, `workflow-failed` or `workflow-canceled`). After a
reconnect, `workflow-watch` with the last `seq` received misses nothing and repeats nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

from core.access import Actor
from core.db import db_to_async
from core.errors import NotFound
from workflows import selectors, services
from workflows.models import Event, WorkflowRun

TERMINAL_EVENTS = frozenset({"workflow-finish", "workflow-failed", "workflow-canceled"})
POLL_S = 0.2


def _run_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("Workflow run not found.", details={"runId": ["Not found."]}) from None


def run_for_watch(*, actor: Actor, run_id: str) -> WorkflowRun:
    return selectors.run_get(actor=actor, run_id=_run_id(run_id))


def start(*, actor: Actor, workflow_id: str, input_data: Any, thread_id: str | None) -> WorkflowRun:
    return services.run_start(
        actor=actor,
        workflow_id=workflow_id,
        input_data=input_data,
        thread_id=thread_id or "",
        resource_id=str(actor.user_id) if thread_id else "",
    )


def resume(*, actor: Actor, run_id: str, step: str | None, resume_data: Any) -> dict[str, Any]:
    run = selectors.run_get(actor=actor, run_id=_run_id(run_id))
    suspension = services.run_resume(actor=actor, run=run, step=step, resume_data=resume_data)
    return {"type": "workflow-resumed", "runId": str(run.pk), "path": suspension.path}


def _events_after(run_id: uuid.UUID, offset: int) -> list[dict[str, Any]]:
    rows = Event.objects.filter(run_id=run_id, seq__gt=offset).order_by("seq")[:200]
    return [{"seq": e.seq, "type": e.type, "path": e.path, "data": e.data} for e in rows]


def _exists(run_id: uuid.UUID) -> bool:
    return WorkflowRun.objects.filter(pk=run_id).exists()


async def watch(run: WorkflowRun, *, offset: int) -> AsyncIterator[dict[str, Any]]:
    """The run's event frames after `offset`, ending with its terminal event."""
    read = db_to_async(_events_after)
    exists = db_to_async(_exists)
    quiet = 0
    while True:
        events = await read(run.pk, offset)
        for event in events:
            offset = event["seq"]
            yield {
                "type": "workflow-event",
                "runId": str(run.pk),
                "workflowId": run.workflow_id,
                "seq": event["seq"],
                "event": event,
            }
            if event["type"] in TERMINAL_EVENTS:
                return
        if not events:
            quiet += 1
            if quiet % 25 == 0 and not await exists(run.pk):
                return  # the run was deleted (its thread or its owner's data)
            await asyncio.sleep(POLL_S)
        else:
            quiet = 0
