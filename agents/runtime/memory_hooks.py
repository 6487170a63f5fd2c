"""Memory around a run: context before the first model call, the new messages after.

The user's message is persisted before the model is called, so a provider
failure never loses it; the assistant's message is written with the run's
outcome (complete, failed or aborted, with whatever was produced), in the same
transaction as the run and its trace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from agents.runtime.spec import AgentSpec
from agents.runtime.types import DECLINED_PREFIX, MemoryOptions
from core.context import RequestContext
from core.errors import ValidationFailed
from memory.config import MemoryConfig
from memory.services import (
    History,
    MessageInput,
    Resent,
    memory_context_build,
    message_resend,
    message_save,
    message_save_with_history,
    messages_embed_enqueue,
)

WORKING_MEMORY_TOOL = "update_working_memory"
_MESSAGE_STATUS = {"completed": "complete", "failed": "failed", "aborted": "aborted"}


@dataclass(frozen=True, kw_only=True, slots=True)
class MemorySession:
    tenant_id: int
    thread_id: str
    resource_id: str
    config: MemoryConfig
    first_message_index: int  # where this run's new messages start in the turn's message list
    # This turn's saved messages still to embed: enqueued when the run ends, so publishing
    # them does not compete with the first model call (a sweep catches a process that died).
    unembedded: tuple[str, ...] = ()

    @property
    def working_memory_enabled(self) -> bool:
        wm = self.config.working_memory
        return wm is not None and wm.enabled


def memory_enabled(spec: AgentSpec) -> bool:
    """Whether the agent keeps conversations (memory is on unless its settings switch it off)."""
    return MemoryConfig.model_validate(spec.memory or {}).enabled


def memory_config(spec: AgentSpec) -> MemoryConfig:
    """The agent's memory settings; a request naming a thread of an agent with memory off is refused."""
    config = MemoryConfig.model_validate(spec.memory or {})
    if not config.enabled:
        raise ValidationFailed(
            f"Agent {spec.slug!r} has memory off: send no thread.",
            details={"memory": [f"Agent {spec.slug!r} is stateless (memory off)."]},
        )
    return config


def memory_open(
    *,
    spec: AgentSpec,
    context: RequestContext,
    memory: MemoryOptions,
    new_messages: list[dict[str, Any]],
    run_id: str,
) -> tuple[MemorySession, list[dict[str, Any]]]:
    """Persist the user's message and build the messages the model sees (system, history, new ones)."""
    config = memory_config(spec)
    resource_id = memory.resource_id or context.resource_id
    if not resource_id:
        raise ValidationFailed(
            "Memory needs a resource (the owner of the thread).", details={"memory": ["No resource."]}
        )
    user_text = next((m["content"] for m in reversed(new_messages) if m["role"] == "user"), "")
    unembedded: list[str] = []
    resent = _resend(
        context=context,
        memory=memory,
        resource_id=resource_id,
        config=config,
        new_messages=new_messages,
        run_id=run_id,
    )
    current_ids: tuple[str, ...]
    if resent is not None:
        history, current_ids = resent.history, (resent.id,)
        if resent.changed and resent.recall:
            unembedded.append(resent.id)
    else:
        try:
            history, current_ids = _save_new(
                spec=spec,
                context=context,
                memory=memory,
                resource_id=resource_id,
                config=config,
                new_messages=new_messages,
                run_id=run_id,
                unembedded=unembedded,
            )
        except IntegrityError:
            # A concurrent send of the same client message id saved it first: it is that message.
            resent = _resend(
                context=context,
                memory=memory,
                resource_id=resource_id,
                config=config,
                new_messages=new_messages,
                run_id=run_id,
            )
            if resent is None:
                raise
            history, current_ids = resent.history, (resent.id,)
    loaded = memory_context_build(
        tenant_id=context.tenant_id,
        thread_id=memory.thread_id,
        resource_id=resource_id,
        config=config,
        query=user_text,
        window=history,
        current_ids=current_ids,
        agent_id=spec.slug,
    )
    system = "\n\n".join([spec.instructions, *loaded.system_sections])
    messages = [{"role": "system", "content": system}, *loaded.history, *new_messages]
    session = MemorySession(
        tenant_id=context.tenant_id,
        thread_id=memory.thread_id,
        resource_id=resource_id,
        config=config,
        first_message_index=len(messages),
        unembedded=tuple(unembedded),
    )
    return session, messages


def _resend(
    *,
    context: RequestContext,
    memory: MemoryOptions,
    resource_id: str,
    config: MemoryConfig,
    new_messages: list[dict[str, Any]],
    run_id: str,
) -> Resent | None:
    """A chat turn (one user message) the thread already holds: a retry of the client's
    message id, an edit, or `regenerate` (the answer to it is replaced, nothing is added)."""
    if len(new_messages) != 1 or new_messages[0]["role"] != "user":
        return None
    if not memory.client_message_id and not memory.regenerate:
        return None
    return message_resend(
        tenant_id=context.tenant_id,
        thread_id=memory.thread_id,
        resource_id=resource_id,
        client_id=memory.client_message_id or "",
        parts=[{"type": "text", "text": new_messages[0]["content"]}],
        run_id=run_id,
        history_limit=config.last_messages,
        latest=memory.regenerate,
        recall=config.semantic_recall is not None,
    )


def _save_new(
    *,
    spec: AgentSpec,
    context: RequestContext,
    memory: MemoryOptions,
    resource_id: str,
    config: MemoryConfig,
    new_messages: list[dict[str, Any]],
    run_id: str,
    unembedded: list[str],
) -> tuple[History, tuple[str, ...]]:
    """Save the run's new messages (the first with the thread ensured and the history read)."""
    history: History = []
    last = len(new_messages) - 1
    for index, message in enumerate(new_messages):
        stored = MessageInput(
            id=f"{run_id}-in-{index}",
            role=message["role"],
            parts=[{"type": "text", "text": message["content"]}],
            run_id=run_id,
            client_id=(memory.client_message_id or "") if index == last else "",
        )
        if index == 0:  # the thread ensured, the message saved and the history before it read at once
            _, history = message_save_with_history(
                tenant_id=context.tenant_id,
                thread_id=memory.thread_id,
                resource_id=resource_id,
                agent_id=spec.slug,
                message=stored,
                history_limit=config.last_messages,
                embed_later=unembedded,
                owner_id=context.user_id,
                recall=config.semantic_recall is not None,
            )
        else:
            message_save(
                tenant_id=context.tenant_id,
                thread_id=memory.thread_id,
                message=stored,
                embed_later=unembedded,
                recall=config.semantic_recall is not None,
            )
    return history, tuple(f"{run_id}-in-{index}" for index in range(len(new_messages)))


def assistant_parts(messages: list[dict[str, Any]], partial_text: str) -> list[dict[str, Any]]:
    """This run's assistant and tool messages as stored parts, in order."""
    parts: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for message in messages:
        if message["role"] == "assistant":
            if message.get("content"):
                parts.append({"type": "text", "text": message["content"]})
            for call in message.get("tool_calls") or ():
                names[call["id"]] = call["function"]["name"]
                try:
                    arguments = json.loads(call["function"]["arguments"] or "{}")
                except ValueError:
                    arguments = call["function"]["arguments"]
                parts.append(
                    {
                        "type": "tool-call",
                        "toolCallId": call["id"],
                        "toolName": names[call["id"]],
                        "input": arguments,
                    }
                )
        elif message["role"] == "tool":
            content = json.loads(message["content"])
            is_error = isinstance(content, dict) and set(content) == {"error"}
            part = {
                "type": "tool-result",
                "toolCallId": message["tool_call_id"],
                "toolName": names.get(message["tool_call_id"], ""),
                "output": content,
                "isError": is_error,
            }
            if is_error and str(content["error"]).startswith(DECLINED_PREFIX):
                part["denied"] = True  # a person declined it: it never ran
            parts.append(part)
    if partial_text and not any(p["type"] == "text" and p["text"] == partial_text for p in parts):
        parts.append({"type": "text", "text": partial_text})
    return parts


def memory_close(
    *, session: MemorySession, messages: list[dict[str, Any]], run_id: str, status: str, partial_text: str
) -> None:
    """Write the assistant's message with the run's outcome; ask for a thread title after commit."""
    parts = assistant_parts(messages[session.first_message_index :], partial_text)
    unembedded = list(session.unembedded)
    if parts:
        message_save(
            tenant_id=session.tenant_id,
            thread_id=session.thread_id,
            message=MessageInput(
                id=f"{run_id}-out",
                role="assistant",
                parts=parts,
                status=_MESSAGE_STATUS.get(status, "partial"),  # type: ignore[arg-type]
                run_id=run_id,
            ),
            embed_later=unembedded,
            recall=session.config.semantic_recall is not None,
        )
    # The turn's messages embedded together (none where no agent of the thread recalls): one task, one call to the embedder.
    if unembedded:
        transaction.on_commit(partial(messages_embed_enqueue, message_ids=unembedded))
    # A stopped answer titles its thread too (the title task does nothing for a titled thread).
    if session.config.generate_titles and status in ("completed", "aborted"):
        from agents.tasks import thread_title_enqueue

        thread_title_enqueue(tenant_id=session.tenant_id, thread_id=session.thread_id)  # after commit
