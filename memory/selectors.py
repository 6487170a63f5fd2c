"""Reads: threads and messages, always scoped to a tenant and an owner."""

from __future__ import annotations

from django.db.models import QuerySet

from core.errors import NotFound
from memory.models import KnowledgeDocument, Message, Thread, WorkingMemory


def thread_get(*, tenant_id: int, thread_id: str, resource_id: str | None) -> Thread:
    """The thread if it is in the tenant and (unless `resource_id` is None) owned by the resource.

    Another tenant's or owner's thread is indistinguishable from a missing one.
    """
    qs = Thread.objects.filter(pk=thread_id, tenant_id=tenant_id)
    if resource_id is not None:
        qs = qs.filter(resource_id=resource_id)
    thread = qs.first()
    if thread is None:
        raise NotFound("Thread not found.", details={"threadId": thread_id})
    return thread


def thread_list(*, tenant_id: int, resource_id: str | None, agent_id: str | None = None) -> QuerySet[Thread]:
    qs = Thread.objects.filter(tenant_id=tenant_id)
    if resource_id is not None:
        qs = qs.filter(resource_id=resource_id)
    if agent_id:
        qs = qs.filter(agent_id=agent_id)
    return qs.order_by("-updated_at", "id")


def message_list(*, thread: Thread) -> QuerySet[Message]:
    return Message.objects.filter(thread=thread).order_by("created_at", "id")


def messages_last(*, tenant_id: int, thread_id: str, limit: int) -> list[Message]:
    """The last `limit` messages of a thread, oldest first (one indexed query)."""
    if limit <= 0:
        return []
    rows = list(
        Message.objects.filter(thread_id=thread_id, tenant_id=tenant_id).order_by("-created_at", "-id")[
            :limit
        ]
    )
    rows.reverse()
    return rows


def working_memory_find(*, tenant_id: int, scope: str, key: str) -> WorkingMemory | None:
    return WorkingMemory.objects.filter(tenant_id=tenant_id, scope=scope, key=key).first()


def document_list(*, tenant_id: int) -> QuerySet[KnowledgeDocument]:
    return KnowledgeDocument.objects.filter(tenant_id=tenant_id).order_by("-created_at", "-id")


def document_get(*, tenant_id: int, document_id: int) -> KnowledgeDocument:
    document = KnowledgeDocument.objects.filter(tenant_id=tenant_id, pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.", details={"documentId": document_id})
    return document
