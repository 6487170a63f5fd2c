"""Ready-made steps: an agent, a tool, a human approval.

An agent step runs the agent to a final answer with the step's idempotency key, so a retry
after a lost worker replays the run the agent already finished instead of paying for it
again. A tool step validates its input against the tool's own model. An approval step
suspends with a question and resumes with `{"approved": bool, "reason": str}`, through the
runs' approval service (see `workflows.approvals`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

from workflows.context import StepContext
from workflows.definition import RetryPolicy, Step, step


class AgentAnswer(BaseModel):
    text: str
    runId: str = ""


class ApprovalRequest(BaseModel):
    question: str
    data: Any = None


class ApprovalDecision(BaseModel):
    approved: bool
    reason: str = Field(default="", max_length=2000)


class Approval(BaseModel):
    approved: bool
    reason: str = ""
    data: Any = None


def agent_step(
    *,
    id: str,
    agent: str,
    input: type[BaseModel],
    prompt: Callable[[Any], str],
    description: str = "",
    retry: RetryPolicy | None = None,
    timeout_s: float | None = None,
) -> Step:
    """Ask the agent `agent` (its slug) the prompt built from the step's input; output `AgentAnswer`."""

    def run_agent(data: BaseModel, ctx: StepContext) -> AgentAnswer:
        result = agent_generate(ctx, agent=agent, prompt=prompt(data))
        if result.error:
            raise RuntimeError(f"The agent {agent!r} failed: {result.error.get('message', result.error)}")
        return AgentAnswer(text=result.text, runId=str(result.run_id))

    run_agent.__qualname__ = f"agent_step.{agent}.{id}"
    return step(
        id=id,
        input=input,
        output=AgentAnswer,
        description=description or f"Asks the agent {agent}.",
        retry=retry,
        timeout_s=timeout_s,
    )(run_agent)


class AgentRunCancelled(Exception):
    """The workflow run was cancelled while its agent step waited on the agent."""


def agent_generate(ctx: StepContext, *, agent: str, prompt: str) -> Any:
    """Run the agent `agent` to its answer (a `RunResult`) with the step's idempotency key, and
    stop it when the workflow run is cancelled.

    The agent loop does not check a cancel signal of its own, so the step does: the agent runs
    as a task on an event loop of this thread, and once `ctx.cancelled` turns true the task is
    cancelled (the model call in progress is dropped, the agent run ends `aborted` with its
    partial text), the agent run is then marked `cancelled` (`run_cancelled`, as the runs'
    `run_cancel` marks one) and the step raises `AgentRunCancelled`: its result is discarded."""
    key = agent_run_key(ctx, agent=agent)
    result = asyncio.run(_generate_until_cancelled(ctx, agent=agent, prompt=prompt, key=key))
    if result is None:
        agent_runs_cancelled(tenant_id=ctx.request_context.tenant_id, idempotency_key=key)
        raise AgentRunCancelled(f"The workflow run was cancelled while the agent {agent!r} answered.")
    return result


def agent_run_key(ctx: StepContext, *, agent: str) -> str:
    """The idempotency key for this attempt's agent run: the step's own key while its agent
    run finished (replayed, not paid twice) or never began; otherwise the next of `key~2`,
    `key~3`, ... An agent run still `running` under a key belongs to an attempt whose worker
    was lost (this attempt holds the run's claim): it is marked `interrupted` and passed over,
    as are failed, cancelled and cut-off ones, so a retry really runs the agent again."""
    from agents.models import Run

    context = ctx.request_context
    runs = Run.objects.filter(tenant_id=context.tenant_id, agent__slug=agent)
    runs = (
        runs.filter(user_id=context.user_id)
        if context.user_id is not None
        else runs.filter(user__isnull=True)
    )
    base = ctx.idempotency_key
    for n in range(1, 100):
        key = base if n == 1 else f"{base}~{n}"
        status = runs.filter(idempotency_key=key).values_list("status", flat=True).first()
        if status is None or status in (Run.Status.COMPLETED, Run.Status.SUSPENDED):
            return key
        if status == Run.Status.RUNNING:
            runs.filter(idempotency_key=key, status=Run.Status.RUNNING).update(
                status=Run.Status.INTERRUPTED,
                error={
                    "code": "run_interrupted",
                    "message": "The workflow step that started this run lost its worker.",
                    "status": 500,
                },
            )
    raise RuntimeError(f"No idempotency key left for the agent {agent!r} at {ctx.path}.")


async def _generate_until_cancelled(ctx: StepContext, *, agent: str, prompt: str, key: str) -> Any:
    from agents.runtime import RunOptions, agenerate

    task = asyncio.ensure_future(
        agenerate(agent, context=ctx.request_context, prompt=prompt, options=RunOptions(idempotency_key=key))
    )
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.1)
        if done:
            return task.result()
        if ctx.cancelled:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return None


def agent_runs_cancelled(*, tenant_id: int, idempotency_key: str) -> int:
    """Mark the agent runs of a step (or, with a prefix ending in ":", of a workflow run) that
    are still running, or were cut off, as `cancelled`; returns how many."""
    from agents.models import Run

    runs = Run.objects.filter(tenant_id=tenant_id, status__in=[Run.Status.RUNNING, Run.Status.ABORTED])
    runs = (
        runs.filter(idempotency_key__startswith=idempotency_key)
        if idempotency_key.endswith(":")
        else runs.filter(idempotency_key=idempotency_key)
    )
    return runs.update(
        status=Run.Status.CANCELLED,
        error={"code": "run_cancelled", "message": "The workflow run was cancelled.", "status": 409},
    )


def tool_step(*, tool: Any, id: str | None = None, retry: RetryPolicy | None = None) -> Step:
    """Run a registered tool (an `agents.tools` definition) as a step, with the tool's models."""
    from agents.tools.context import ToolContext

    def run_tool(data: BaseModel, ctx: StepContext) -> Any:
        tool_ctx = ToolContext(
            request_context=ctx.request_context, agent_id="workflow", run_id=str(ctx.run_id)
        )
        result = tool.function(tool_ctx, data)
        if hasattr(result, "__await__"):
            raise TypeError("Async tools run as async steps; wrap them in a step of your own.")
        return result

    run_tool.__qualname__ = f"tool_step.{tool.id}"
    return step(
        id=id or tool.id,
        input=tool.input_model,
        output=tool.output_model,
        description=tool.description,
        retry=retry,
        at_most_once=tool.side_effect in ("write", "external"),
        timeout_s=tool.timeout_s,
    )(run_tool)


def approval_step(
    *,
    id: str,
    input: type[BaseModel],
    question: Callable[[Any], str],
    description: str = "",
    agent: str = "",
) -> Step:
    """Wait for a person to approve or decline; the output says which (the workflow branches on it).

    The wait is an approval of the runs' approval service (`workflows.approvals`): a pending
    call of the agent `agent` (default WORKFLOW_APPROVAL_AGENT), listed, decided and expired
    wherever tool approvals are."""

    def ask(data: BaseModel, ctx: StepContext) -> Approval:
        decision = ctx.resume_data
        if decision is None:
            ctx.suspend({"question": question(data), "data": data.model_dump(mode="json")})
        assert isinstance(decision, ApprovalDecision)  # noqa: S101 - validated by the resume schema
        return Approval(approved=decision.approved, reason=decision.reason, data=data.model_dump(mode="json"))

    ask.__qualname__ = f"approval_step.{id}"
    made = step(
        id=id,
        input=input,
        output=Approval,
        description=description or "Waits for a person to approve.",
        suspend_schema=ApprovalRequest,
        resume_schema=ApprovalDecision,
    )(ask)
    return dataclasses.replace(made, kind="approval", approval_agent=agent)
