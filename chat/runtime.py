"""The agent runtime as the chat edges see it: a small port with one adapter.

The SSE route and the WebSocket consumer never import `agents.runtime`
directly; they ask `chat_runtime()` for an object with a few methods. The default
adapter wraps the platform runtime; `CHAT_RUNTIME` (a dotted path) swaps it,
which the plumbing tests use to drive the edges with scripted event streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from agents.runtime.events import Event, ToolInputStart
from core.access import Actor
from core.context import RequestContext


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatDecision:
    """A person's answer to one tool call a run waits on: approve, decline (with a reason), or
    resume data for a tool that suspended itself."""

    run_id: str
    tool_call_id: str
    action: Literal["approve", "decline", "resume"]
    reason: str = ""
    resume_data: Any = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DecisionOutcome:
    """A recorded decision. `ready`: it left nothing of the run waiting, and this caller claimed
    the run and must continue it (`ChatRequest.continuation`); otherwise the run still waits."""

    run_id: str
    ready: bool
    gate: dict[str, Any]  # the decided call in the API's shape (approvalId, toolCallId, status, ...)
    claim: Any = None  # the runtime's own handle on the decision, to continue the run with


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatRequest:
    """One turn of a chat: who asks, which agent, on which thread, what."""

    agent_id: str
    context: RequestContext
    thread_id: str
    text: str
    model: str | None = None
    client_message_id: str | None = None  # the client's id of the user message (retries keep it)
    regenerate: bool = False  # replace the answer to the last user message instead of adding one
    # The stored run's id, chosen by the hub before the run starts: every frame carries it.
    run_id: str | None = None
    require_tool_approval: bool = False  # every tool call of this run waits for a person
    # Continue the suspended run `run_id` after this recorded decision, instead of a new turn.
    continuation: DecisionOutcome | None = None


class ChatRuntime(Protocol):
    def agent_exists(self, *, agent_id: str, tenant_id: int) -> bool:
        """Synchronous (it may query the database): call it through `sync_to_async` from async code."""

    def model_check(self, *, agent_id: str, tenant_id: int, model: str) -> None:
        """Raise a platform error when the agent may not run `model` (synchronous, like `agent_exists`)."""

    def thread_check(self, *, agent_id: str, tenant_id: int, resource_id: str, thread_id: str) -> None:
        """Raise a platform error when the turn could not use the thread: another owner's, where the
        agent keeps memory (synchronous, like `agent_exists`)."""

    def decide(self, *, actor: Actor, agent_id: str, decision: ChatDecision) -> DecisionOutcome:
        """Record one decision (synchronous); raises the platform's errors: 404 for a run or call the
        actor may not decide, 409 with the earlier decision, 400 for resume data off the schema."""

    def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        """A new turn, or with `request.continuation` the continued run."""

    def cancel(self, *, actor: Actor, run_id: str) -> None:
        """Stop a run wherever it runs (synchronous); 404 for a run the actor may not manage, 409
        once it has ended."""


class PlatformRuntime:
    """Adapter over `agents.runtime.stream` with memory on the chat's thread."""

    def agent_exists(self, *, agent_id: str, tenant_id: int) -> bool:
        from agents.runtime.spec import agent_spec_cached
        from agents.selectors import agent_exists
        from core.errors import Disabled

        try:  # an agent this process holds the configuration of exists: no query on the chat's way
            if agent_spec_cached(slug=agent_id, tenant_id=tenant_id) is not None:
                return True
        except Disabled:  # held, and disabled: it exists (its run says it is disabled)
            return True
        return agent_exists(slug=agent_id, tenant_id=tenant_id)

    def model_check(self, *, agent_id: str, tenant_id: int, model: str) -> None:
        from agents.runtime import model_choice_check

        model_choice_check(agent_id, tenant_id=tenant_id, model=model)

    def thread_check(self, *, agent_id: str, tenant_id: int, resource_id: str, thread_id: str) -> None:
        from agents.runtime import thread_check

        thread_check(agent_id, tenant_id=tenant_id, resource_id=resource_id, thread_id=thread_id)

    def decide(self, *, actor: Actor, agent_id: str, decision: ChatDecision) -> DecisionOutcome:
        from agents.runs import services

        if decision.action == "resume":
            recorded = services.tool_call_resume(
                actor=actor,
                agent_id=agent_id,
                run_id=decision.run_id,
                tool_call_id=decision.tool_call_id,
                resume_data=decision.resume_data,
            )
        else:
            recorded = services.tool_call_decide(
                actor=actor,
                agent_id=agent_id,
                run_id=decision.run_id,
                tool_call_id=decision.tool_call_id,
                approve=decision.action == "approve",
                reason=decision.reason,
            )
        return DecisionOutcome(
            run_id=str(recorded.run_id), ready=recorded.ready, gate=recorded.gate, claim=recorded
        )

    def cancel(self, *, actor: Actor, run_id: str) -> None:
        from agents.runs import services

        services.run_cancel(actor=actor, run_id=run_id)

    async def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        from agents.runs import services

        events: AsyncIterator[Event]
        if request.continuation is not None:
            events = services.run_continue_events(decision=request.continuation.claim, published=True)
        else:
            events = self._turn(request)
        try:
            async for event in events:
                yield _with_tool_label(event)
        finally:
            # Closing (abort, cancellation) reaches the runtime, which closes the provider stream.
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def _turn(self, request: ChatRequest) -> AsyncIterator[Event]:
        from agents import runtime

        return runtime.stream(
            request.agent_id,
            context=request.context,
            prompt=request.text,
            memory=runtime.MemoryOptions(
                thread_id=request.thread_id,
                resource_id=request.context.resource_id,
                client_message_id=request.client_message_id,
                regenerate=request.regenerate,
                optional=True,
            ),
            options=runtime.RunOptions(
                model=request.model,
                run_id=request.run_id,
                require_tool_approval=request.require_tool_approval,
            ),
        )


def _with_tool_label(event: Event) -> Event:
    """Give `tool-input-start` the tool's declared label as the SDK's `title`, for loading states."""
    if isinstance(event, ToolInputStart) and event.title is None:
        from agents.tools.registry import registry

        definition = registry.get(event.tool_name)
        if definition is not None and definition.label:
            return replace(event, title=definition.label)
    return event


@cache
def _load(path: str) -> ChatRuntime:
    runtime: ChatRuntime = import_string(path)()
    return runtime


def chat_runtime() -> ChatRuntime:
    """The runtime chosen in settings (`CHAT_RUNTIME`), one instance per process."""
    return _load(getattr(settings, "CHAT_RUNTIME", "chat.runtime.PlatformRuntime"))
