"""Messages: saved as ordered typed parts, upserted by id, embedded after commit."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.db import fast_commit_wanted, fetch_prepared
from core.errors import Conflict, NotFound, ValidationFailed
from memory import tokens
from memory.conversion import parts_text
from memory.dispatch import dispatch
from memory.models import Message, MessageEmbedding, Thread
from observability.redaction import redact

logger = logging.getLogger(__name__)

PART_TYPES = frozenset({"text", "reasoning", "tool-call", "tool-result", "tool-approval-request", "file"})


@dataclass(frozen=True, kw_only=True)
class MessageInput:
    id: str
    role: Literal["user", "assistant", "system", "tool"]
    parts: list[dict[str, Any]]
    status: Literal["complete", "partial", "failed", "aborted"] = "complete"
    run_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    client_id: str = ""  # the client's own id for the message (unique in the thread)


def _check(message: MessageInput) -> None:
    errors: dict[str, list[str]] = {}
    if message.role not in Message.Role.values:
        errors["role"] = [f"must be one of {', '.join(Message.Role.values)}"]
    if message.status not in Message.Status.values:
        errors["status"] = [f"must be one of {', '.join(Message.Status.values)}"]
    if not message.id or len(message.id) > 200:
        errors["id"] = ["must be 1 to 200 characters"]
    if len(message.client_id) > 200:
        errors["clientId"] = ["must be at most 200 characters"]
    if errors:
        raise ValidationFailed("The message is invalid.", details=errors)
    _check_parts(message.parts)


def _check_parts(parts: list[dict[str, Any]]) -> None:
    bad = [i for i, p in enumerate(parts) if not isinstance(p, dict) or p.get("type") not in PART_TYPES]
    if bad:
        raise ValidationFailed(
            "Unknown message part type.", details={"parts": [f"part {i} has an unknown type" for i in bad]}
        )


# One statement, one round trip: check the thread is the tenant's (and lock it, so saves to a
# thread are serialised), upsert the message unless its id belongs to another thread, drop the
# embedding of a message whose text changed, touch the thread. It changes nothing when the thread
# is not found or the id is taken; the caller raises from what it returns.
_RELAX = """
WITH relax AS (
    SELECT CASE WHEN %(relax)s::boolean THEN set_config('synchronous_commit', 'off', true) END AS done
),"""
_THREAD = """
thread AS (
    SELECT id, resource_id, recall FROM memory_thread
    WHERE id = %(thread)s AND tenant_id = %(tenant)s FOR NO KEY UPDATE
),"""
# The thread created for its owner if missing (as `thread_ensure`), in the same statement. A
# thread just created is not in the statement's snapshot: `existing` is then empty.
_THREAD_ENSURED = """
created AS (
    INSERT INTO memory_thread (
        id, tenant_id, owner_id, resource_id, agent_id, title, metadata, recall, created_at, updated_at
    )
    VALUES (
        %(thread)s, %(tenant)s, %(owner)s, %(resource)s, %(agent)s, '', '{}'::jsonb, %(recall)s, %(now)s, %(now)s
    )
    ON CONFLICT (tenant_id, id) DO NOTHING
    RETURNING id, resource_id, recall
),
existing AS (
    SELECT id, resource_id, recall FROM memory_thread
    WHERE id = %(thread)s AND tenant_id = %(tenant)s AND resource_id = %(resource)s FOR NO KEY UPDATE
),
thread AS (
    SELECT id, resource_id, recall FROM created UNION ALL SELECT id, resource_id, recall FROM existing
),"""
_UPSERT = """
old AS (
    SELECT thread_id, text FROM memory_message WHERE id = %(id)s AND tenant_id = %(tenant)s FOR UPDATE
),
saved AS (
    INSERT INTO memory_message AS m (
        id, thread_id, tenant_id, resource_id, role, parts, text, status, run_id, metadata,
        token_count, created_at, updated_at, client_id
    )
    SELECT %(id)s, thread.id, %(tenant)s, thread.resource_id, %(role)s, %(parts)s::jsonb, %(text)s,
        %(status)s, %(run)s, %(metadata)s::jsonb, %(tokens)s::integer, %(now)s, %(now)s, %(client)s
    FROM thread
    ON CONFLICT (id) DO UPDATE SET
        role = EXCLUDED.role, parts = EXCLUDED.parts, text = EXCLUDED.text, status = EXCLUDED.status,
        run_id = EXCLUDED.run_id, metadata = EXCLUDED.metadata, token_count = EXCLUDED.token_count,
        updated_at = EXCLUDED.updated_at
    WHERE m.thread_id = EXCLUDED.thread_id AND m.tenant_id = EXCLUDED.tenant_id
    RETURNING m.created_at
),
unembedded AS (
    DELETE FROM memory_messageembedding
    WHERE message_id = %(id)s AND EXISTS (SELECT 1 FROM saved)
        AND EXISTS (SELECT 1 FROM old WHERE old.text IS DISTINCT FROM %(text)s)
),
touched AS (
    UPDATE memory_thread SET updated_at = %(now)s, recall = recall OR %(recall)s
    WHERE id = %(thread)s AND tenant_id = %(tenant)s AND EXISTS (SELECT 1 FROM saved)
)
SELECT thread.resource_id, saved.created_at, old.text IS DISTINCT FROM %(text)s,
    coalesce(thread.recall, false) OR %(recall)s, relax.done"""
_FROM = """
FROM relax LEFT JOIN thread ON true LEFT JOIN saved ON true LEFT JOIN old ON true
"""
# The thread's last messages before this one, oldest first (the statement's snapshot does
# not hold the row it inserts): a turn's history, read in the round trip saving its message.
_HISTORY = """,
    (SELECT json_agg(json_build_array(w.id, w.role, w.parts, w.text) ORDER BY w.created_at, w.id)
     FROM (SELECT id, role, parts, text, created_at FROM memory_message
           WHERE thread_id = %(thread)s AND tenant_id = %(tenant)s AND id <> %(id)s
           ORDER BY created_at DESC, id DESC LIMIT %(limit)s) w
     WHERE EXISTS (SELECT 1 FROM thread))"""
_SAVE_SQL = _RELAX + _THREAD + _UPSERT + _FROM
_ENSURE_AND_SAVE_SQL = _RELAX + _THREAD_ENSURED + _UPSERT + _FROM
_ENSURE_SAVE_AND_HISTORY_SQL = _RELAX + _THREAD_ENSURED + _UPSERT + _HISTORY + _FROM
# The same, also returning the thread's last messages before this one (the statement's
# snapshot does not hold the row it inserts), oldest first: the turn's history in the
# round trip that saves its user message.


def message_save(
    *,
    tenant_id: int,
    thread_id: str,
    message: MessageInput,
    embed_later: list[str] | None = None,
    recall: bool = False,
) -> Message:
    """Insert or update (by id) a message of a thread, then embed it after commit if the
    thread is recalled (`recall`: the saving agent recalls; or an earlier one did, see
    `Thread.recall`).

    The thread must exist in the tenant (see `thread_ensure`). The embedding is
    computed by a Celery task, or inline without a worker; its failure never
    fails the save. One round trip to the database; outside a transaction the
    save commits without waiting for the WAL flush (messages are written on
    every turn, see core.db).
    """
    return _save(
        tenant_id=tenant_id,
        thread_id=thread_id,
        message=message,
        owner=None,
        embed_later=embed_later,
        recall=recall,
    )[0]


def message_save_ensuring_thread(
    *,
    tenant_id: int,
    thread_id: str,
    resource_id: str,
    agent_id: str | None,
    message: MessageInput,
    embed_later: list[str] | None = None,
    owner_id: int | None = None,
    recall: bool = False,
) -> Message:
    """`thread_ensure` then `message_save`, in one round trip (the first message of a turn).

    A thread of another owner or tenant raises NotFound and nothing is written. A thread
    created here is owned by `owner_id` (the user of the turn).
    Outside a transaction, a thread created here commits as the message does
    (without waiting for the WAL flush): both or neither survive a server crash.
    With `embed_later`, a message that needs embedding has its id appended there
    instead of being enqueued now (the caller enqueues it with `messages_embed_enqueue`).
    """
    return _save(
        tenant_id=tenant_id,
        thread_id=thread_id,
        message=message,
        owner=(resource_id, agent_id or "", owner_id),
        embed_later=embed_later,
        recall=recall,
    )[0]


History = list[tuple[str, str, list[dict[str, Any]], str]]  # (id, role, parts, text), oldest first


def message_save_with_history(
    *,
    tenant_id: int,
    thread_id: str,
    resource_id: str,
    agent_id: str | None,
    message: MessageInput,
    history_limit: int,
    embed_later: list[str] | None = None,
    owner_id: int | None = None,
    recall: bool = False,
) -> tuple[Message, History]:
    """`message_save_ensuring_thread`, also returning the thread's last `history_limit`
    messages before this one: one round trip for the start of a turn."""
    return _save(
        tenant_id=tenant_id,
        thread_id=thread_id,
        message=message,
        owner=(resource_id, agent_id or "", owner_id),
        embed_later=embed_later,
        history_limit=history_limit,
        recall=recall,
    )


def _save(
    *,
    tenant_id: int,
    thread_id: str,
    message: MessageInput,
    owner: tuple[str, str, int | None] | None,
    embed_later: list[str] | None = None,
    history_limit: int | None = None,
    recall: bool = False,
) -> tuple[Message, History]:
    """Save (and with `owner`, ensure the thread); with `history_limit`, also read the history.

    Secrets are scrubbed from the parts and metadata first (`observability.redaction`),
    as from runs and traces: a configured key pasted into a chat is never stored.
    """
    _check(message)
    parts: list[dict[str, Any]] = redact(message.parts)
    metadata: dict[str, Any] = redact(message.metadata)
    text = parts_text(parts)
    now = timezone.now()
    values = {
        "role": message.role,
        "parts": parts,
        "text": text,
        "status": message.status,
        "run_id": message.run_id or "",
        "metadata": metadata,
        "token_count": tokens.count_parts(parts),
        "client_id": message.client_id,
    }
    params = {
        "relax": fast_commit_wanted(),
        "thread": thread_id,
        "tenant": tenant_id,
        "id": message.id,
        "role": message.role,
        "parts": json.dumps(parts),
        "text": text,
        "status": message.status,
        "run": values["run_id"],
        "metadata": json.dumps(metadata),
        "tokens": values["token_count"],
        "now": now,
        "client": message.client_id,
        "recall": recall,
    }
    if owner is not None:
        params["resource"], params["agent"], params["owner"] = owner
    sql = _SAVE_SQL if owner is None else _ENSURE_AND_SAVE_SQL
    if history_limit is not None:
        sql, params["limit"] = _ENSURE_SAVE_AND_HISTORY_SQL, history_limit
    resource_id, created_at, changed, recalled, _, *window = fetch_prepared(sql, params)[0]
    if resource_id is None:
        raise NotFound("Thread not found.", details={"threadId": thread_id})
    if created_at is None:
        raise Conflict("A message with this id belongs to another thread.", details={"id": [message.id]})
    row = Message(
        id=message.id,
        thread_id=thread_id,
        tenant_id=tenant_id,
        resource_id=resource_id,
        created_at=created_at,
        updated_at=now,
        **values,
    )
    row._state.adding = False
    row._state.db = "default"
    rows = window[0] if window else None  # a json array (psycopg decodes it), or null
    rows = json.loads(rows) if isinstance(rows, str) else rows or []
    history: History = [(pk, role, parts, text) for pk, role, parts, text in rows]
    if changed and text and recalled:  # embedded only where some agent of the thread recalls
        if embed_later is not None:
            embed_later.append(message.id)
        else:
            transaction.on_commit(lambda: messages_embed_enqueue(message_ids=[message.id]))
    return row, history


def messages_embed_enqueue(*, message_ids: list[str]) -> None:
    """Embed several messages (a turn's) in the background: one task, one call to the embedder."""
    from memory.services.embeddings import messages_embed
    from memory.tasks import embed_messages

    if message_ids:
        dispatch(embed_messages, lambda ids: messages_embed(message_ids=ids), list(message_ids))


@dataclass(frozen=True, kw_only=True, slots=True)
class Resent:
    """A user message sent again, kept as the stored one: its id, the history before it,
    and whether its text changed (then it needs embedding again)."""

    id: str
    history: History
    changed: bool
    recall: bool = False  # whether the thread is recalled (its messages are embedded)


@transaction.atomic
def message_resend(
    *,
    tenant_id: int,
    thread_id: str,
    resource_id: str,
    client_id: str,
    parts: list[dict[str, Any]],
    run_id: str,
    history_limit: int,
    latest: bool = False,
    recall: bool = False,
) -> Resent | None:
    """A turn whose user message the thread already holds: a client retry, an edit, or the
    AI SDK's `regenerate-message`.

    The stored user message with this client id (or server id) is kept, updated if its
    text changed, and every later message of the thread is deleted: the new answer
    replaces the old one instead of being added after it. With `latest` and no such
    message, the thread's last user message is the one (regenerate without an id).
    None when there is none (the caller saves a new message) or the thread is not the
    resource's in the tenant.
    """
    thread = (
        Thread.objects.select_for_update(no_key=True)
        .filter(tenant_id=tenant_id, id=thread_id, resource_id=resource_id)
        .first()
    )
    if thread is None:
        return None
    users = Message.objects.filter(tenant_id=tenant_id, thread_id=thread_id, role=Message.Role.USER)
    anchor = None
    if client_id:
        anchor = users.filter(Q(client_id=client_id) | Q(id=client_id)).first()
    if anchor is None and latest:
        anchor = users.order_by("-created_at", "-id").first()
    if anchor is None:
        return None
    if recall and not thread.recall:
        Thread.objects.filter(pk=thread.pk).update(recall=True)
    thread_messages = Message.objects.filter(tenant_id=tenant_id, thread_id=thread_id)
    after = Q(created_at__gt=anchor.created_at) | Q(created_at=anchor.created_at, id__gt=anchor.id)
    thread_messages.filter(after).delete()
    parts = redact(parts)
    text = parts_text(parts)
    changed = text != anchor.text
    if changed:
        MessageEmbedding.objects.filter(message_id=anchor.id).delete()
        thread_messages.filter(id=anchor.id).update(
            parts=parts,
            text=text,
            token_count=tokens.count_parts(parts),
            run_id=run_id,
            updated_at=timezone.now(),
        )
    rows = list(
        thread_messages.filter(
            Q(created_at__lt=anchor.created_at) | Q(created_at=anchor.created_at, id__lt=anchor.id)
        )
        .order_by("-created_at", "-id")
        .values_list("id", "role", "parts", "text")[:history_limit]
    )
    history: History = [(pk, role, stored, body) for pk, role, stored, body in reversed(rows)]
    return Resent(id=anchor.id, history=history, changed=changed, recall=recall or thread.recall)
