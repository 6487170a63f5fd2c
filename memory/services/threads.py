"""Threads: create, update, delete; deleting a resource's data."""

from __future__ import annotations

import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.access import Actor
from core.db import fetch_prepared
from core.errors import Conflict, NotFound
from memory.models import Message, MessageEmbedding, Thread, WorkingMemory
from memory.selectors import thread_get
from memory.signals import resource_data_deleted, thread_deleted

# The thread created if missing, else the stored one: one statement, one round trip.
_ENSURE_SQL = """
WITH created AS (
    INSERT INTO memory_thread (
        id, tenant_id, owner_id, resource_id, agent_id, title, metadata, created_at, updated_at
    )
    VALUES (%(id)s, %(tenant)s, %(owner)s, %(resource)s, %(agent)s, '', '{}'::jsonb, %(now)s, %(now)s)
    ON CONFLICT (tenant_id, id) DO NOTHING
    RETURNING key, id, tenant_id, owner_id, resource_id, agent_id, title, metadata, created_at, updated_at
)
SELECT * FROM created
UNION ALL
SELECT key, id, tenant_id, owner_id, resource_id, agent_id, title, metadata, created_at, updated_at
FROM memory_thread WHERE id = %(id)s AND tenant_id = %(tenant)s AND NOT EXISTS (SELECT 1 FROM created)
"""


def thread_ensure(
    *,
    tenant_id: int,
    thread_id: str,
    resource_id: str,
    agent_id: str | None = None,
    owner_id: int | None = None,
) -> Thread:
    """The thread, created for the resource (owned by `owner_id`) if missing.

    Thread ids are unique per tenant: another tenant's thread with the same id is
    another thread. An id already used in the tenant by another resource raises
    NotFound, as if it did not exist, so ids cannot be probed.
    """
    params = {
        "id": thread_id,
        "tenant": tenant_id,
        "owner": owner_id,
        "resource": resource_id,
        "agent": agent_id or "",
        "now": timezone.now(),
    }
    rows = fetch_prepared(_ENSURE_SQL, params)
    if rows:
        key, id_, tenant, owner, resource, agent, title, metadata, created_at, updated_at = rows[0]
        thread = Thread(
            key=key,
            id=id_,
            tenant_id=tenant,
            owner_id=owner,
            resource_id=resource,
            agent_id=agent,
            title=title,
            metadata=json.loads(metadata) if isinstance(metadata, str) else metadata,
            created_at=created_at,
            updated_at=updated_at,
        )
        thread._state.adding = False
        thread._state.db = "default"
    else:  # created by a transaction that committed after this statement began
        thread = Thread.objects.get(tenant_id=tenant_id, id=thread_id)
    if thread.tenant_id != tenant_id or thread.resource_id != resource_id:
        raise NotFound("Thread not found.", details={"threadId": thread_id})
    return thread


def thread_create(
    *,
    tenant_id: int,
    resource_id: str,
    thread_id: str,
    owner_id: int | None = None,
    title: str = "",
    metadata: dict[str, Any] | None = None,
    agent_id: str = "",
) -> Thread:
    """A new thread of the tenant, owned by `owner_id`.

    An id the tenant already uses (whoever owns that thread) raises Conflict, and the
    answer says nothing else about that thread; concurrent creates of one id have one
    winner and the others get the same Conflict. Another tenant's ids do not matter.
    """
    try:
        with transaction.atomic():
            return Thread.objects.create(
                id=thread_id,
                tenant_id=tenant_id,
                owner_id=owner_id,
                resource_id=resource_id,
                agent_id=agent_id,
                title=title,
                metadata=metadata or {},
            )
    except IntegrityError as exc:
        raise Conflict(
            "A thread with this id already exists.", details={"threadId": ["already exists"]}
        ) from exc


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
    Thread.objects.filter(id=thread_id, tenant_id=tenant_id).update(title=title[:300])


@transaction.atomic
def thread_delete(*, tenant_id: int, thread_id: str) -> None:
    """Delete a thread with its messages, their embeddings and its thread-scoped working memory."""
    thread = thread_get(tenant_id=tenant_id, thread_id=thread_id, resource_id=None)
    MessageEmbedding.objects.filter(tenant_id=tenant_id, thread_id=thread.id).delete()
    Message.objects.filter(tenant_id=tenant_id, thread_id=thread.id).delete()
    WorkingMemory.objects.filter(tenant_id=tenant_id, scope="thread", key=thread_id).delete()
    owner_id = thread.owner_id
    thread.delete()
    thread_deleted.send(sender=Thread, tenant_id=tenant_id, thread_id=thread_id, owner_id=owner_id)


@transaction.atomic
def resource_data_delete(*, actor: Actor, resource_id: str) -> int:
    """Delete every thread, message, embedding and working memory of a resource the actor acts
    for (see `memory_resource_for`); returns threads deleted. Other apps delete what they keep
    for the resource only as far as the actor may manage it (a member: its own rows)."""
    tenant_id = actor.tenant_id
    threads = Thread.objects.filter(tenant_id=tenant_id, resource_id=resource_id)
    owners = dict(threads.values_list("id", "owner_id"))
    ids = list(owners)
    MessageEmbedding.objects.filter(tenant_id=tenant_id, resource_id=resource_id).delete()
    Message.objects.filter(tenant_id=tenant_id, thread_id__in=ids).delete()
    WorkingMemory.objects.filter(tenant_id=tenant_id, resource_id=resource_id).delete()
    threads.delete()
    resource_data_deleted.send(
        sender=Thread, tenant_id=tenant_id, resource_id=resource_id, actor=actor, threads=owners
    )
    return len(ids)
