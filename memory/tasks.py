"""Background work: embedding messages, indexing documents, catching up on failures."""

from __future__ import annotations

from celery import shared_task

from memory.embedders import EmbedderError


@shared_task(
    name="memory.embed_messages",
    autoretry_for=(EmbedderError,),
    retry_backoff=5,
    max_retries=5,
    acks_late=True,
)
def embed_messages(message_ids: list[str]) -> int:
    """Messages (a turn's, or one saved through the API) embedded in one call to the embedder."""
    from memory.services import messages_embed

    return messages_embed(message_ids=message_ids)


@shared_task(
    name="memory.ingest_document",
    autoretry_for=(EmbedderError,),
    retry_backoff=10,
    max_retries=5,
    acks_late=True,
)
def ingest_document(document_id: int) -> int:
    from memory.services import document_ingest

    return document_ingest(document_id=document_id)


@shared_task(name="memory.embed_pending")
def embed_pending() -> int:
    """Periodic: embed messages whose embedding failed or never ran."""
    from memory.services import messages_embed_pending

    return messages_embed_pending()
