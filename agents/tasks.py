"""Background work of the agents app: thread titles (a cheap model after the first exchange),
the runs' sweeps, and continuing a run decided in the admin."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from celery import shared_task
from django.conf import settings
from django.db import transaction

from agents.providers.calls import call_sync
from agents.providers.resolution import model_resolve
from core.errors import PlatformError
from memory import selectors
from memory.models import Thread
from memory.services import thread_title_set
from observability.tracing import trace_start

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a short title (at most six words, no quotes, no trailing period) for a conversation that "
    "starts like this. Answer with the title only."
)


def _thread_agent_model(thread: Thread) -> str | None:
    from agents.models import Agent

    return (
        Agent.objects.filter(slug=thread.agent_id).values_list("model", flat=True).first()
        if thread.agent_id
        else None
    )


def thread_title_generate(*, tenant_id: int, thread_id: str) -> str | None:
    """Title an untitled thread from its first user and assistant messages; None when not applicable."""
    thread = Thread.objects.filter(id=thread_id, tenant_id=tenant_id).first()
    if thread is None or thread.title:
        return None
    first = list(selectors.message_list(thread=thread).exclude(text="")[:2])
    if not any(m.role == "user" for m in first):
        return None
    excerpt = "\n".join(f"{m.role}: {m.text[:1000]}" for m in first)
    model = settings.MEMORY_TITLE_MODEL or _thread_agent_model(thread) or settings.DEFAULT_MODEL
    trace = trace_start(name="memory.thread_title", tenant_id=tenant_id, thread_id=thread_id)
    try:
        with trace.span("memory.thread_title", kind="task"):
            _, response = call_sync(
                chain=[model_resolve(model)],
                request={
                    "messages": [
                        {"role": "system", "content": TITLE_PROMPT},
                        {"role": "user", "content": excerpt},
                    ],
                    "max_tokens": 24,
                },
                trace=trace,
            )
    except PlatformError as error:  # a title is a nicety: log and leave the thread untitled
        logger.warning("thread title for %s not generated: %s", thread_id, error.message)
        return None
    finally:
        trace.flush()
    title = response.text.strip().strip("\"'").splitlines()[0][:120] if response.text.strip() else ""
    if title:
        thread_title_set(tenant_id=tenant_id, thread_id=thread_id, title=title)
    return title or None


@shared_task(name="agents.thread_title", max_retries=2, default_retry_delay=30)
def thread_title(tenant_id: int, thread_id: str) -> str | None:
    return thread_title_generate(tenant_id=tenant_id, thread_id=thread_id)


def thread_title_enqueue(*, tenant_id: int, thread_id: str) -> None:
    """Called by the runtime after a thread's first exchange (when the agent's memory asks for titles)."""
    transaction.on_commit(lambda: thread_title.delay(tenant_id, thread_id))


@shared_task(name="agents.tasks.approvals_expire", ignore_result=True)
def approvals_expire() -> int:
    """Beat: end runs whose approvals waited past their expiry (declined, reason "expired")."""
    from agents.runs.services import gates_expire

    return gates_expire()


@shared_task(name="agents.tasks.runs_sweep", ignore_result=True)
def runs_sweep() -> int:
    """Beat: mark runs a dead process left `running` as `interrupted`."""
    from agents.runs.services import runs_sweep_interrupted

    return runs_sweep_interrupted()


@shared_task(name="agents.tasks.run_continue", ignore_result=True)
def run_continue(run_id: str, gate: dict[str, Any]) -> str:
    """Continue a run whose last waiting call was decided where nothing streams it (the admin).

    That decision claimed the run (status back to `running`) and was committed before this task
    was queued; the continuation reads everything from PostgreSQL, so any worker may take it. A
    failure while continuing is stored on the run by the runtime; it is logged here too.
    """
    from agents.runs.services import Decision, run_continue_result

    decision = Decision(run_id=uuid.UUID(run_id), gate=gate, ready=True)
    try:
        result = async_to_sync(run_continue_result)(decision=decision)
    except PlatformError as error:
        logger.warning("run %s failed while continuing: %s", run_id, error.message)
        return "failed"
    return result.status


def run_continue_enqueue(*, run_id: str, gate: dict[str, Any]) -> None:
    """Hand a claimed run to a worker once the decision that claimed it is committed."""
    transaction.on_commit(lambda: run_continue.delay(run_id, gate))
