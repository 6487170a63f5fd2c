"""The agent runtime as the chat edges see it: a small port with one adapter.

The SSE route and the WebSocket consumer never import `agents.runtime`
directly; they ask `chat_runtime()` for an object with two methods. The default
adapter wraps the platform runtime; `CHAT_RUNTIME` (a dotted path) swaps it,
which the plumbing tests use to drive the edges with scripted event streams.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from agents.runtime.events import Event
from core.context import RequestContext


@dataclass(frozen=True, kw_only=True, slots=True)
class ChatRequest:
    """One turn of a chat: who asks, which agent, on which thread, what."""

    agent_id: str
    context: RequestContext
    thread_id: str
    text: str
    model: str | None = None


class ChatRuntime(Protocol):
    def agent_exists(self, *, agent_id: str, tenant_id: int) -> bool:
        """Synchronous (it may query the database): call it through `sync_to_async` from async code."""

    def stream(self, request: ChatRequest) -> AsyncIterator[Event]: ...


class PlatformRuntime:
    """Adapter over `agents.runtime.stream` with memory on the chat's thread."""

    def agent_exists(self, *, agent_id: str, tenant_id: int) -> bool:
        return _agent_exists(agent_id=agent_id, tenant_id=tenant_id)

    def stream(self, request: ChatRequest) -> AsyncIterator[Event]:
        from agents import runtime

        return runtime.stream(  # type: ignore[attr-defined]
            request.agent_id,
            context=request.context,
            prompt=request.text,
            memory=runtime.MemoryOptions(  # type: ignore[attr-defined]
                thread_id=request.thread_id, resource_id=request.context.resource_id
            ),
            options=runtime.RunOptions(model=request.model),  # type: ignore[attr-defined]
        )


def _agent_exists(*, agent_id: str, tenant_id: int) -> bool:
    from django.apps import apps

    try:
        label = "agents.Agent"  # the runtime's model; absent until the agents app defines it
        model: Any = apps.get_model(label)
    except LookupError:
        return False
    return bool(model.objects.filter(tenant_id=tenant_id, slug=agent_id).exists())


@cache
def _load(path: str) -> ChatRuntime:
    runtime: ChatRuntime = import_string(path)()
    return runtime


def chat_runtime() -> ChatRuntime:
    """The runtime chosen in settings (`CHAT_RUNTIME`), one instance per process."""
    return _load(getattr(settings, "CHAT_RUNTIME", "chat.runtime.PlatformRuntime"))
