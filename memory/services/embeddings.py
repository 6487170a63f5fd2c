"""Embedding messages and chunks, and the vector-distance expression searches use."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q
from django.db.models.expressions import CombinedExpression, Func
from django.db.models.functions import Cast
from django.utils import timezone
from pgvector.django import CosineDistance, VectorField

from memory.embedders import Embedder, embedder_get
from memory.models import INDEXED_DIMENSIONS, KnowledgeChunk, Message, MessageEmbedding

logger = logging.getLogger(__name__)
BATCH = 64


def cosine_distance(embedder: Embedder, vector: list[float]) -> Func | CombinedExpression:
    """Distance to `vector`, written to match the partial HNSW index when the dimension is indexed."""
    if embedder.dimensions == INDEXED_DIMENSIONS:
        return CosineDistance(Cast("embedding", VectorField(dimensions=INDEXED_DIMENSIONS)), vector)
    return CosineDistance(F("embedding"), vector)


def vector_filter(embedder: Embedder) -> Q:
    """Only vectors of the current embedder are compared."""
    return Q(embedder=embedder.name, dimensions=embedder.dimensions)


def messages_embed(*, message_ids: list[str]) -> int:
    """Embed these messages in one call to the embedder; how many had text to embed.

    Raises EmbedderError when the embedder fails (the task retries; the sweep catches up).
    """
    messages = [m for m in Message.objects.filter(pk__in=message_ids) if m.text]
    if not messages:
        return 0
    embedder = embedder_get()
    vectors = embedder.embed([m.text for m in messages])
    _store(messages, vectors, embedder)
    return len(messages)


def _store(messages: list[Message], vectors: list[list[float]], embedder: Embedder) -> None:
    """Each message's vector, replacing the one it had: one statement for the batch."""
    MessageEmbedding.objects.bulk_create(
        [
            MessageEmbedding(
                message=message,
                thread_id=message.thread_id,
                tenant_id=message.tenant_id,
                resource_id=message.resource_id,
                embedder=embedder.name,
                dimensions=embedder.dimensions,
                embedding=vector,
            )
            for message, vector in zip(messages, vectors, strict=True)
        ],
        update_conflicts=True,
        unique_fields=["message"],
        update_fields=["thread_id", "tenant", "resource_id", "embedder", "dimensions", "embedding"],
    )


def messages_embed_pending(*, older_than_s: float = 30.0, limit: int = 500) -> int:
    """Embed messages that have text but no vector from the current embedder (failed or new),
    in threads that some agent recalls (`Thread.recall`)."""
    embedder = embedder_get()
    current = MessageEmbedding.objects.filter(message=OuterRef("pk")).filter(vector_filter(embedder))
    pending = list(
        Message.objects.exclude(text="")
        .filter(thread__recall=True)
        .filter(~Exists(current), created_at__lt=timezone.now() - timedelta(seconds=older_than_s))
        .order_by("created_at")[:limit]
    )
    done = 0
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        _store(batch, embedder.embed([m.text for m in batch]), embedder)
        done += len(batch)
    return done


def reembed_all() -> dict[str, int]:
    """Re-embed every message and knowledge chunk whose vector came from another embedder."""
    embedder = embedder_get()
    messages = 0
    while batch_done := messages_embed_pending(older_than_s=0, limit=BATCH * 8):
        messages += batch_done
    chunks = 0
    while batch := list(KnowledgeChunk.objects.exclude(vector_filter(embedder)).order_by("pk")[:BATCH]):
        for chunk, vector in zip(batch, embedder.embed([c.text for c in batch]), strict=True):
            chunk.embedding, chunk.embedder, chunk.dimensions = vector, embedder.name, embedder.dimensions
        KnowledgeChunk.objects.bulk_update(batch, ["embedding", "embedder", "dimensions"])
        chunks += len(batch)
    return {"messages": messages, "chunks": chunks}
