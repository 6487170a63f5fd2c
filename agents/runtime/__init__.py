"""The agent runtime: `generate` (a complete answer) and `stream` (typed events).

    result = generate("support", context=RequestContext(tenant_id=1, user_id=7), prompt="Hello")
    async for event in stream("support", context=ctx, prompt="Hello"):
        send(event.to_chunk())

Each run loads the agent's current version, validates the client's request
context, calls the model (retries, fallback chain), runs allowed tools (in
parallel when the model asks for several), feeds results back until a final
answer or `max_steps`, and persists the run with its trace. Closing a stream
early aborts the run: the provider's HTTP stream is closed and the partial
answer is kept, marked aborted.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from functools import partial
from typing import Any

from agents.providers.resolution import chain_warm
from agents.runtime.drivers import run_events, run_sync
from agents.runtime.events import Event
from agents.runtime.memory_hooks import memory_enabled
from agents.runtime.setup import RunSetup, model_chain, model_names, run_setup
from agents.runtime.spec import AgentSpec, agent_spec_cached, agent_spec_load
from agents.runtime.types import MemoryOptions, RunError, RunOptions, RunResult
from core.context import RequestContext
from core.db import db_to_async
from memory.selectors import thread_owner_check

__all__ = [
    "MemoryOptions",
    "RunError",
    "RunOptions",
    "RunResult",
    "agenerate",
    "generate",
    "model_choice_check",
    "stream",
    "thread_check",
]

Messages = Sequence[Mapping[str, Any]] | None


def model_choice_check(agent_id: str, *, tenant_id: int, model: str) -> None:
    """Raise the run's own error (403 not allowed, 400 unknown model) before a stream starts. Synchronous."""
    model_chain(_spec(agent_id, tenant_id), model)


def thread_check(agent_id: str, *, tenant_id: int, resource_id: str, thread_id: str) -> None:
    """Raise the run's own 404 before a stream starts when the agent keeps memory and the tenant's
    thread of that id is about another resource (a thread not stored yet is a new one). Synchronous."""
    if memory_enabled(_spec(agent_id, tenant_id)):
        thread_owner_check(tenant_id=tenant_id, thread_id=thread_id, resource_id=resource_id)


def _spec(agent_id: str, tenant_id: int) -> AgentSpec:
    return agent_spec_cached(slug=agent_id, tenant_id=tenant_id) or agent_spec_load(
        slug=agent_id, tenant_id=tenant_id
    )


def generate(
    agent_id: str,
    *,
    context: RequestContext,
    prompt: str | None = None,
    messages: Messages = None,
    memory: MemoryOptions | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Run the agent to a final answer (synchronous)."""
    setup = run_setup(
        agent_id,
        context=context,
        prompt=prompt,
        messages=messages,
        memory=memory,
        options=options or RunOptions(),
    )
    return run_sync(setup)


async def agenerate(
    agent_id: str,
    *,
    context: RequestContext,
    prompt: str | None = None,
    messages: Messages = None,
    memory: MemoryOptions | None = None,
    options: RunOptions | None = None,
) -> RunResult:
    """Run the agent to a final answer (asynchronous)."""
    setup = await _asetup(agent_id, context, prompt, messages, memory, options)
    return await run_to_result(setup)


async def run_to_result(setup: RunSetup) -> RunResult:
    """Drive the run's events to the end and return its result (completed or suspended)."""
    async for _event in run_events(setup, streaming=False):
        pass
    if setup.error is not None:
        raise setup.error
    assert setup.result is not None  # noqa: S101 - set by run_events when no error was raised
    return setup.result


async def stream(
    agent_id: str,
    *,
    context: RequestContext,
    prompt: str | None = None,
    messages: Messages = None,
    memory: MemoryOptions | None = None,
    options: RunOptions | None = None,
) -> AsyncGenerator[Event, None]:
    """Run the agent, yielding AI SDK UI message stream events as they happen.

    Bad input (unknown or disabled agent, invalid request context) raises before
    the first event; failures after that end the stream with an `error` event.
    """
    setup = await _asetup(agent_id, context, prompt, messages, memory, options)
    async with aclosing(run_events(setup, streaming=True)) as events:
        async for event in events:
            yield event


async def _asetup(
    agent_id: str,
    context: RequestContext,
    prompt: str | None,
    messages: Messages,
    memory: MemoryOptions | None,
    options: RunOptions | None,
) -> RunSetup:
    pinned = options is not None and options.agent_version is not None
    spec = (
        agent_spec_cached(slug=agent_id, tenant_id=context.tenant_id)
        if memory is None and not pinned
        else None
    )
    setup = partial(
        run_setup,
        agent_id,
        context=context,
        prompt=prompt,
        messages=messages,
        memory=memory,
        options=options or RunOptions(),
        spec=spec,
    )
    chosen = options.model if options is not None else None
    if spec is not None:
        await chain_warm(*model_names(spec, chosen))  # the providers' model lists, fetched off the loop
        return setup()  # nothing to read from the database or a provider: stay on the event loop
    return await db_to_async(setup)()
