"""Reads: threads and messages, always scoped to a tenant and an owner (core.access)."""

from __future__ import annotations

from django.db.models import QuerySet

from core.access import Actor, owned, tenant_wide
from core.errors import NotFound
from memory.models import KnowledgeDocument, Message, Thread, WorkingMemory


def thread_get(*, tenant_id: int, thread_id: str, resource_id: str | None) -> Thread:
    """The thread if it is in the tenant and (unless `resource_id` is None) about the resource.

    For the runtime and services, which act for an already-checked caller; clients' reads go
    through `thread_for`. A miss is indistinguishable from a thread that does not exist.
    """
    qs = Thread.objects.filter(id=thread_id, tenant_id=tenant_id)
    if resource_id is not None:
        qs = qs.filter(resource_id=resource_id)
    thread = qs.first()
    if thread is None:
        raise NotFound("Thread not found.", details={"threadId": thread_id})
    return thread


def thread_owner_check(*, tenant_id: int, thread_id: str, resource_id: str) -> None:
    """Raise NotFound, as loading the thread's memory would, when the tenant's thread of that id is
    about another resource; a thread not stored yet passes (the run creates it). One indexed query."""
    others = Thread.objects.filter(tenant_id=tenant_id, id=thread_id).exclude(resource_id=resource_id)
    if others.exists():
        raise NotFound("Thread not found.", details={"threadId": thread_id})


def thread_for(*, actor: Actor, thread_id: str, resource_id: str | None = None) -> Thread:
    """A thread the actor may read and change: its own, or any of its tenant's for a tenant
    admin (optionally only about `resource_id`); any other is "not found"."""
    qs = owned(Thread.objects.filter(id=thread_id), actor)
    if resource_id is not None:
        qs = qs.filter(resource_id=resource_id)
    thread = qs.first()
    if thread is None:
        raise NotFound("Thread not found.", details={"threadId": thread_id})
    return thread


def thread_list(*, actor: Actor, resource_id: str | None, agent_id: str | None = None) -> QuerySet[Thread]:
    """The threads the actor may manage, about `resource_id` (all the actor's when None)."""
    qs = owned(Thread.objects.all(), actor)
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


def document_list(*, actor: Actor) -> QuerySet[KnowledgeDocument]:
    """The tenant's knowledge: every member reads every document of the tenant (the agents
    answer from it); see `document_for_change` for who may delete."""
    return tenant_wide(KnowledgeDocument.objects.all(), actor).order_by("-created_at", "-id")


def document_get(*, actor: Actor, document_id: int) -> KnowledgeDocument:
    document = document_list(actor=actor).filter(pk=document_id).first()
    if document is None:
        raise NotFound("Document not found.", details={"documentId": document_id})
    return document


def document_for_change(*, actor: Actor, document_id: int) -> KnowledgeDocument:
    """A document the actor may delete: its own upload, or any of the tenant's for a tenant
    admin. Another member's document is "not found" here, as a missing one."""
    document = owned(KnowledgeDocument.objects.filter(pk=document_id), actor).first()
    if document is None:
        raise NotFound("Document not found.", details={"documentId": document_id})
    return document
