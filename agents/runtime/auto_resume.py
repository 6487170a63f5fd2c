"""Auto-resume: the user's next message on a thread becomes the resume data of a suspended tool.

With `autoResumeSuspendedTools` (the run's option, else the agent's setting) and a run on the
thread waiting only on suspensions whose tools declare a `resume_schema`, the model is asked
to extract the resume data from the message against that schema. Valid data resumes the
waiting run (the same run id continues); data the schema refuses leaves it waiting and the
new turn runs with a note telling the model to ask again, so the conversation never fails.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from pydantic import ValidationError

from agents.models import Run, ToolCallGate
from agents.providers import calls
from agents.providers.config import ModelRef
from agents.runtime.resume import continuation_setup
from agents.runtime.setup import RunSetup
from agents.tools.registry import ToolDefinition
from core.context import RequestContext
from memory.services import MessageInput, message_save
from observability.tracing import Trace, trace_join, trace_start

EXTRACT_PROMPT = (
    "A tool is waiting for information from the user. Extract it from the user's message as JSON "
    "matching the schema. Answer with the JSON object only; leave out what the message does not say."
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AskAgain:
    """The message did not hold valid resume data: the note for the model, the run still waits."""

    note: str


def auto_resume(
    *,
    enabled: bool,
    context: RequestContext,
    thread_id: str,
    resource_id: str,
    text: str,
    chain: list[ModelRef],
    tools: Mapping[str, ToolDefinition],
) -> RunSetup | AskAgain | None:
    """The continuation of the thread's suspended run (resumed from `text`), `AskAgain`, or None
    when nothing on the thread can be auto-resumed (then the caller declines what waits).

    `tools`: the agent's tools by the name the model sees (`setup.allowed_tools`); a gate
    stores that name, which a toolkit may have renamed or prefixed. The extraction is traced in
    the waiting run's trace, before the continuation's spans."""
    if not enabled or not text:
        return None
    gates = list(
        ToolCallGate.objects.filter(
            tenant_id=context.tenant_id,
            status=ToolCallGate.Status.PENDING,
            run__thread_id=thread_id,
            run__resource_id=resource_id,
        )
        .select_related("run")
        .order_by("created_at")
    )
    if (
        len(gates) != 1
        or gates[0].kind != ToolCallGate.Kind.SUSPENSION
        or _schema(tools, gates[0].tool_name) is None
    ):
        return None  # nothing waits, an approval waits, or several calls: declined by the caller
    gate = gates[0]
    schema = _schema(tools, gate.tool_name)
    assert schema is not None  # noqa: S101 - checked above
    trace = _run_trace(gate, context)
    try:
        with trace.span(
            "suspension.extract", kind="approval", tool_name=gate.tool_name, tool_call_id=gate.tool_call_id
        ):
            data, problem = _extract(
                chain=chain, trace=trace, schema=schema, payload=gate.suspend_payload, text=text
            )
    finally:
        trace.flush()
    if data is None:
        return AskAgain(
            note=(
                f"The tool {gate.tool_name!r} is still waiting for: {json.dumps(gate.suspend_payload)}. "
                f"The user's last message did not provide it ({problem}). Ask the user for it again, briefly."
            )
        )
    with transaction.atomic():
        run = Run.objects.select_for_update(of=("self",)).select_related("agent").get(id=gate.run_id)
        claimed = ToolCallGate.objects.filter(id=gate.id, status=ToolCallGate.Status.PENDING).update(
            status=ToolCallGate.Status.RESUMED,
            resume_data=data,
            decided_by_id=context.user_id,
            decided_at=datetime.now(UTC),
            reason="resumed from the user's message",
        )
        if not claimed or run.status != Run.Status.SUSPENDED:
            return None  # resumed by another request meanwhile
        Run.objects.filter(id=run.id).update(status=Run.Status.RUNNING, checkpoint_at=datetime.now(UTC))
        message_save(
            tenant_id=context.tenant_id,
            thread_id=thread_id,
            message=MessageInput(
                id=f"{run.id}-resume-{uuid.uuid4().hex[:8]}",
                role="user",
                parts=[{"type": "text", "text": text}],
                run_id=str(run.id),
            ),
        )
    run.status = Run.Status.RUNNING
    return continuation_setup(run=run, gates=list(ToolCallGate.objects.filter(run=run)))


def _run_trace(gate: ToolCallGate, context: RequestContext) -> Trace:
    name = f"agent.auto_resume {gate.tool_name}"
    if gate.run.trace_id is None:
        return trace_start(name=name, tenant_id=context.tenant_id, owner_id=context.user_id)
    return trace_join(
        trace_id=gate.run.trace_id, name=name, tenant_id=context.tenant_id, owner_id=context.user_id
    )


def _schema(tools: Mapping[str, ToolDefinition], tool_name: str) -> Any:
    definition = tools.get(tool_name)
    return definition.resume_schema if definition is not None else None


def _extract(
    *, chain: list[ModelRef], trace: Trace, schema: Any, payload: Any, text: str
) -> tuple[dict[str, Any] | None, str]:
    request = {
        "messages": [
            {"role": "system", "content": EXTRACT_PROMPT},
            {"role": "user", "content": f"Asked: {json.dumps(payload)}\nThe user's message: {text}"},
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "resume_data", "schema": schema.model_json_schema(), "strict": False},
        },
    }
    _, response = calls.call_sync(chain=chain, request=request, trace=trace)
    try:
        return schema.model_validate(json.loads(response.text or "")).model_dump(mode="json"), ""
    except (ValueError, ValidationError) as error:
        return None, str(error).splitlines()[0][:200]
