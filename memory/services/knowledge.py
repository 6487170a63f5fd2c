"""Knowledge (RAG): documents chunked, embedded and searched within a tenant."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

from core.api.text import text_problem, text_without_unsafe
from core.errors import ValidationFailed
from memory.dispatch import dispatch
from memory.embedders import embedder_get
from memory.models import KnowledgeChunk, KnowledgeDocument
from memory.services.embeddings import BATCH, cosine_distance, vector_filter

logger = logging.getLogger(__name__)

MAX_DOCUMENT_CHARS = 2_000_000
MARKDOWN_TYPES = ("text/markdown", "text/x-markdown")


@dataclass(frozen=True, kw_only=True)
class KnowledgeHit:
    document_id: int
    title: str
    text: str
    score: float  # cosine similarity, 1 is identical
    metadata: dict[str, Any]


def document_text_extract(*, content: bytes, media_type: str, filename: str = "") -> tuple[str, str]:
    """The text of an uploaded file and its normalised media type (text, markdown or PDF)."""
    name = filename.lower()
    if media_type == "application/pdf" or name.endswith(".pdf"):
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(content))
            text = "\n\n".join(page.extract_text() or "" for page in reader.pages)
            text = text_without_unsafe(text)  # extraction debris, not the client's text
        except (PdfReadError, ValueError) as exc:
            raise ValidationFailed("The PDF could not be read.", details={"file": [str(exc)]}) from exc
        return text, "application/pdf"
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(
            "Only UTF-8 text, markdown and PDF files are supported.", details={"file": ["not UTF-8 text"]}
        ) from exc
    problem = text_problem(text)
    if problem:
        raise ValidationFailed("The file cannot be stored as text.", details={"file": [problem]})
    if media_type in MARKDOWN_TYPES or name.endswith((".md", ".markdown")):
        return text, "text/markdown"
    return text, "text/plain"


def document_create(
    *,
    tenant_id: int,
    title: str,
    text: str,
    media_type: str = "text/plain",
    filename: str = "",
    metadata: dict[str, Any] | None = None,
    chunk_size: int = 1000,
    chunk_overlap: int = 150,
    owner_id: int | None = None,
) -> KnowledgeDocument:
    """Store a document and index it after commit (a Celery task, or inline without a worker).

    `owner_id`: the uploader, who may delete it; None: the tenant's (tenant admins delete it)."""
    errors: dict[str, list[str]] = {}
    if not text.strip():
        errors["text"] = ["the document has no text"]
    if len(text) > MAX_DOCUMENT_CHARS:
        errors["text"] = [f"longer than {MAX_DOCUMENT_CHARS} characters"]
    if chunk_overlap >= chunk_size:
        errors["chunkOverlap"] = ["must be smaller than chunkSize"]
    if errors:
        raise ValidationFailed(details=errors)
    document = KnowledgeDocument.objects.create(
        tenant_id=tenant_id,
        owner_id=owner_id,
        title=title,
        text=text,
        media_type=media_type,
        filename=filename,
        metadata=metadata or {},
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
    )
    transaction.on_commit(lambda: document_ingest_enqueue(document_id=document.pk))
    return document


def document_ingest_enqueue(*, document_id: int) -> None:
    from memory.tasks import ingest_document

    dispatch(ingest_document, lambda did: document_ingest(document_id=did), document_id)


def split_document(document: KnowledgeDocument) -> list[tuple[str, dict[str, Any]]]:
    """Chunks with their header metadata: markdown split on headers first, then recursively."""
    from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

    recursive = RecursiveCharacterTextSplitter(
        chunk_size=document.chunk_size, chunk_overlap=document.chunk_overlap
    )
    if document.media_type == "text/markdown":
        headers = MarkdownHeaderTextSplitter(
            headers_to_split_on=[("#", "h1"), ("##", "h2"), ("###", "h3")], strip_headers=False
        )
        sections = headers.split_text(document.text)
        return [(piece.page_content, dict(piece.metadata)) for piece in recursive.split_documents(sections)]
    return [(piece, {}) for piece in recursive.split_text(document.text)]


def document_ingest(*, document_id: int) -> int:
    """Chunk and embed a document, replacing its previous chunks; returns the chunk count.

    An embedder failure leaves the document pending (retried); any other failure marks it failed.
    """
    document = KnowledgeDocument.objects.filter(pk=document_id).first()
    if document is None:
        return 0
    embedder = embedder_get()
    try:
        pieces = split_document(document)
    except Exception as exc:
        KnowledgeDocument.objects.filter(pk=document_id).update(status="failed", error=str(exc)[:2000])
        raise
    rows: list[KnowledgeChunk] = []
    for start in range(0, len(pieces), BATCH):
        batch = pieces[start : start + BATCH]
        vectors = embedder.embed([text for text, _ in batch])
        for offset, ((text, headers), vector) in enumerate(zip(batch, vectors, strict=True)):
            rows.append(
                KnowledgeChunk(
                    document=document,
                    tenant_id=document.tenant_id,
                    position=start + offset,
                    text=text,
                    metadata={
                        **document.metadata,
                        **headers,
                        "documentId": document.pk,
                        "title": document.title,
                    },
                    embedder=embedder.name,
                    dimensions=embedder.dimensions,
                    embedding=vector,
                )
            )
    with transaction.atomic():
        KnowledgeChunk.objects.filter(document=document).delete()
        KnowledgeChunk.objects.bulk_create(rows)
        KnowledgeDocument.objects.filter(pk=document_id).update(status="indexed", error="")
    return len(rows)


def document_delete(*, document: KnowledgeDocument) -> None:
    document.delete()


def knowledge_search(
    *, tenant_id: int, query: str, filters: dict[str, Any] | None = None, top_k: int = 5
) -> list[KnowledgeHit]:
    """The chunks most similar to `query` in the caller's tenant, matching every metadata filter."""
    if not query.strip():
        return []
    embedder = embedder_get()
    [vector] = embedder.embed([query])
    qs = KnowledgeChunk.objects.filter(vector_filter(embedder), tenant_id=tenant_id)
    if filters:
        qs = qs.filter(metadata__contains=filters)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL hnsw.iterative_scan = strict_order")
        chunks = list(
            qs.annotate(distance=cosine_distance(embedder, vector))
            .select_related("document")
            .order_by("distance")[: max(1, min(top_k, 50))]
        )
    return [
        KnowledgeHit(
            document_id=c.document_id,
            title=c.document.title,
            text=c.text,
            score=1.0 - float(c.distance),
            metadata=c.metadata,
        )
        for c in chunks
    ]
