"""Messages: saved as ordered typed parts, upserted by id, embedded after commit."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from core.db import fast_commit
from core.errors import Conflict, ValidationFailed
from memory import tokens
from memory.conversion import parts_text
from memory.dispatch import dispatch
from memory.models import Message, MessageEmbedding, Thread

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


def _check(message: MessageInput) -> None:
    errors: dict[str, list[str]] = {}
    if message.role not in Message.Role.values:
        errors["role"] = [f"must be one of {', '.join(Message.Role.values)}"]
    if message.status not in Message.Status.values:
        errors["status"] = [f"must be one of {', '.join(Message.Status.values)}"]
    if not message.id or len(message.id) > 200:
        errors["id"] = ["must be 1 to 200 characters"]
    if errors:
        raise ValidationFailed("The message is invalid.", details=errors)
    _check_parts(message.parts)


def _check_parts(parts: list[dict[str, Any]]) -> None:
    bad = [i for i, p in enumerate(parts) if not isinstance(p, dict) or p.get("type") not in PART_TYPES]
    if bad:
        raise ValidationFailed(
            "Unknown message part type.", details={"parts": [f"part {i} has an unknown type" for i in bad]}
        )


def message_save(*, tenant_id: int, thread_id: str, message: MessageInput) -> Message:
    """Insert or update (by id) a message of a thread, then embed it after commit.

    The thread must exist in the tenant (see `thread_ensure`). The embedding is
    computed by a Celery task, or inline without a worker; its failure never
    fails the save.
    """
    _check(message)
    text = parts_text(message.parts)
    # Messages are written on every turn: commit without waiting for the WAL flush (see core.db).
    with fast_commit():
        thread = Thread.objects.select_for_update().filter(pk=thread_id, tenant_id=tenant_id).first()
        if thread is None:
            from core.errors import NotFound

            raise NotFound("Thread not found.", details={"threadId": thread_id})
        values = {
            "role": message.role,
            "parts": message.parts,
            "text": text,
            "status": message.status,
            "run_id": message.run_id or "",
            "metadata": message.metadata,
            "token_count": tokens.count_parts(message.parts),
        }
        row = Message.objects.filter(pk=message.id).first()
        if row is None:
            row = Message.objects.create(
                id=message.id,
                thread=thread,
                tenant_id=tenant_id,
                resource_id=thread.resource_id,
                created_at=timezone.now(),
                **values,
            )
            changed = True
        else:
            if row.thread_id != thread.pk:
                raise Conflict(
                    "A message with this id belongs to another thread.", details={"id": [message.id]}
                )
            changed = row.text != text
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            if changed:
                MessageEmbedding.objects.filter(message=row).delete()
        Thread.objects.filter(pk=thread.pk).update(updated_at=timezone.now())
        if changed and text:
            transaction.on_commit(lambda: message_embed_enqueue(message_id=row.pk))
    return row


def message_embed_enqueue(*, message_id: str) -> None:
    from memory.services.embeddings import message_embed
    from memory.tasks import embed_message

    dispatch(embed_message, lambda mid: message_embed(message_id=mid), message_id)
