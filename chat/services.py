"""Chat services: turn an authenticated user's turn, or a decision on a waiting tool call,
into a run request."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chat.runs.replay import thread_run_in_flight
from chat.runtime import ChatDecision, ChatRequest, DecisionOutcome, chat_runtime
from core.access import Actor, actor_for_user
from core.context import RequestContext
from core.errors import NotFound, PlatformError
from core.tenancy import tenant_for_user


def chat_request_build(
    *,
    user: Any,
    agent_id: str,
    thread_id: str,
    text: str,
    model: str | None,
    client_message_id: str | None = None,
    regenerate: bool = False,
    require_tool_approval: bool = False,
) -> ChatRequest:
    """Check the agent exists in the user's tenant, then describe the turn.

    The thread is the chat id; the memory resource is the user (`str(user.pk)`),
    never a value the client chose. A chosen model is checked here, so a refusal is
    the error shape, not a stream that fails. Synchronous: it queries the database.
    """
    tenant = tenant_for_user(user)
    runtime = chat_runtime()
    if not runtime.agent_exists(agent_id=agent_id, tenant_id=tenant.pk):
        raise NotFound(f"No agent '{agent_id}'.", details={"agentId": agent_id})
    if model:
        runtime.model_check(agent_id=agent_id, tenant_id=tenant.pk, model=model)
    return chat_request(
        tenant_id=tenant.pk,
        user_id=user.pk,
        agent_id=agent_id,
        thread_id=thread_id,
        text=text,
        model=model,
        client_message_id=client_message_id,
        regenerate=regenerate,
        require_tool_approval=require_tool_approval,
    )


def chat_turn_check(
    *, tenant_id: int, user_id: int, agent_id: str, thread_id: str, model: str | None
) -> None:
    """Refuse, before a run is started, what its runtime would refuse before its first event: a
    model the agent may not run (the REST route's 400 or 403) and another owner's thread (404),
    so a client is never given the id of a run that does not exist. Synchronous: it may query
    the database (the thread; the agent when this process holds no configuration of it)."""
    runtime = chat_runtime()
    if model:
        runtime.model_check(agent_id=agent_id, tenant_id=tenant_id, model=model)
    runtime.thread_check(
        agent_id=agent_id, tenant_id=tenant_id, resource_id=str(user_id), thread_id=thread_id
    )


def chat_request(
    *,
    tenant_id: int,
    user_id: int,
    agent_id: str,
    thread_id: str,
    text: str,
    model: str | None,
    client_message_id: str | None = None,
    regenerate: bool = False,
    require_tool_approval: bool = False,
) -> ChatRequest:
    """Describe a turn whose caller and agent were already checked (the WebSocket checks at connect)."""
    context = RequestContext(tenant_id=tenant_id, user_id=user_id, resource_id=str(user_id))
    return ChatRequest(
        agent_id=agent_id,
        context=context,
        thread_id=thread_id,
        text=text,
        model=model or None,
        client_message_id=client_message_id or None,
        regenerate=regenerate,
        require_tool_approval=require_tool_approval,
    )


def chat_run_to_resume(*, user: Any, agent_id: str, thread_id: str) -> str | None:
    """The user's run in flight on the chat's thread, to resume; None when there is none.

    The agent must exist in the user's tenant (a 404 otherwise, as for a new turn). Runs are
    found per user, so another user's chat id has none. Synchronous: it queries the
    database and Redis.
    """
    tenant = tenant_for_user(user)
    if not chat_runtime().agent_exists(agent_id=agent_id, tenant_id=tenant.pk):
        raise NotFound(f"No agent '{agent_id}'.", details={"agentId": agent_id})
    return thread_run_in_flight(user_id=user.pk, thread_id=thread_id)


def chat_decide(*, actor: Actor, agent_id: str, decision: ChatDecision) -> DecisionOutcome:
    """Record one decision on a tool call the actor may decide (the run's owner or a tenant
    admin; anyone else: 404). Synchronous: it writes to the database."""
    return chat_runtime().decide(actor=actor, agent_id=agent_id, decision=decision)


def chat_cancel(*, actor: Actor, run_id: str) -> None:
    """Cancel a run the actor may manage, in whichever process runs it (404 for anyone else's,
    409 once it has ended). Synchronous: it writes to the database."""
    chat_runtime().cancel(actor=actor, run_id=run_id)


def chat_continuation_build(
    *, user: Any, agent_id: str, thread_id: str, decisions: list[ChatDecision]
) -> ChatRequest:
    """Record the decisions a chat request carries (the AI SDK sends every call of the step at
    once), then describe the run's continuation.

    A call decided before (a retry, or decided meanwhile elsewhere) does not stop the others
    from being recorded; its 409 is raised only when no decision here claimed the run, so a
    claimed run is always continued. Synchronous: it writes to the database.
    """
    actor = actor_for_user(user)
    claimed: DecisionOutcome | None = None
    last: DecisionOutcome | None = None
    first_error: PlatformError | None = None
    for decision in decisions:
        try:
            last = chat_decide(actor=actor, agent_id=agent_id, decision=decision)
        except PlatformError as error:
            first_error = first_error or error
            continue
        if last.ready:
            claimed = last
    if claimed is None and first_error is not None:
        raise first_error
    outcome = claimed or last
    assert outcome is not None  # noqa: S101 - at least one decision, recorded or raised
    request = chat_request(
        tenant_id=actor.tenant_id,
        user_id=user.pk,
        agent_id=agent_id,
        thread_id=thread_id,
        text="",
        model=None,
    )
    return replace(request, run_id=outcome.run_id, continuation=outcome)
