"""Threads: create, update, delete; deleting a resource's data."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from core.errors import NotFound
from memory.models import Message, MessageEmbedding, Thread, WorkingMemory
from memory.selectors import thread_get


def thread_ensure(*, tenant_id: int, thread_id: str, resource_id: str, agent_id: str | None = None) -> Thread:
    """The thread, created for the resource if missing.

    A thread id already used by another resource or tenant raises NotFound, as if
    it did not exist, so ids cannot be probed.
    """
    thread = Thread.objects.filter(pk=thread_id).first()
    if thread is None:
        try:
            with transaction.atomic():
                return Thread.objects.create(
                    id=thread_id, tenant_id=tenant_id, resource_id=resource_id, agent_id=agent_id or ""
                )
        except IntegrityError:  # created concurrently
            thread = Thread.objects.get(pk=thread_id)
    if thread.tenant_id != tenant_id or thread.resource_id != resource_id:
        raise NotFound("Thread not found.", details={"threadId": thread_id})
    return thread


def thread_create(
    *,
    tenant_id: int,
    resource_id: str,
    thread_id: str,
    title: str = "",
    metadata: dict[str, Any] | None = None,
    agent_id: str = "",
) -> Thread:
    if Thread.objects.filter(pk=thread_id).exists():
        from core.errors import Conflict

        raise Conflict("A thread with this id already exists.", details={"threadId": ["already exists"]})
    return Thread.objects.create(
        id=thread_id,
        tenant_id=tenant_id,
        resource_id=resource_id,
        agent_id=agent_id,
        title=title,
        metadata=metadata or {},
    )


def thread_update(
    *, thread: Thread, title: str | None = None, metadata: dict[str, Any] | None = None
) -> Thread:
    """Change a thread the caller was already authorised for (see `selectors.thread_get`)."""
    if title is not None:
        thread.title = title
    if metadata is not None:
        thread.metadata = metadata
    thread.save(update_fields=["title", "metadata", "updated_at"])
    return thread


def thread_title_set(*, tenant_id: int, thread_id: str, title: str) -> None:
    Thread.objects.filter(pk=thread_id, tenant_id=tenant_id).update(title=title[:300])


@transaction.atomic
def thread_delete(*, tenant_id: int, thread_id: str) -> None:
    """Delete a thread with its messages, their embeddings and its thread-scoped working memory."""
    thread = thread_get(tenant_id=tenant_id, thread_id=thread_id, resource_id=None)
    MessageEmbedding.objects.filter(thread=thread).delete()
    Message.objects.filter(thread=thread).delete()
    WorkingMemory.objects.filter(tenant_id=tenant_id, scope="thread", key=thread_id).delete()
    thread.delete()


@transaction.atomic
def resource_data_delete(*, tenant_id: int, resource_id: str) -> int:
    """Delete every thread, message, embedding and working memory of a resource; returns threads deleted."""
    threads = Thread.objects.filter(tenant_id=tenant_id, resource_id=resource_id)
    ids = list(threads.values_list("pk", flat=True))
    MessageEmbedding.objects.filter(tenant_id=tenant_id, resource_id=resource_id).delete()
    Message.objects.filter(thread_id__in=ids).delete()
    WorkingMemory.objects.filter(tenant_id=tenant_id, resource_id=resource_id).delete()
    threads.delete()
    return len(ids)
