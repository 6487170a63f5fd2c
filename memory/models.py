"""Memory models: threads, messages and their embeddings, working memory, knowledge."""

from __future__ import annotations

from django.db import models
from pgvector.django import VectorField

# Vectors of every embedder live in one untyped `vector` column with the embedder's
# name and dimension beside them; the HNSW index covers the default dimension
# (all-MiniLM-L6-v2 and most small embedders). Another dimension is searched exactly
# until an index for it is added.
INDEXED_DIMENSIONS = 384
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


def hnsw_index_sql(table: str, name: str) -> str:
    """A partial HNSW index (cosine) over the vectors of the indexed dimension.

    Written as SQL in the migration: Django cannot render an operator class on a cast expression.
    """
    return (
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING hnsw "
        f"((embedding::vector({INDEXED_DIMENSIONS})) vector_cosine_ops) "
        f"WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION}) WHERE dimensions = {INDEXED_DIMENSIONS}"
    )


class Thread(models.Model):
    """A conversation owned by a resource (a user or any owner id) inside a tenant."""

    id = models.CharField(primary_key=True, max_length=200)
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="threads")
    resource_id = models.CharField(max_length=200)
    agent_id = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "resource_id", "-updated_at"])]
        ordering = ["-updated_at"]

    def __str__(self) -> str:
        return self.title or self.id


class Message(models.Model):
    """One message as ordered typed parts (text, reasoning, tool-call, tool-result, ...)."""

    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"
        SYSTEM = "system"
        TOOL = "tool"

    class Status(models.TextChoices):
        COMPLETE = "complete"
        PARTIAL = "partial"
        FAILED = "failed"
        ABORTED = "aborted"

    id = models.CharField(primary_key=True, max_length=200)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    resource_id = models.CharField(max_length=200)
    role = models.CharField(max_length=16, choices=Role.choices)
    parts = models.JSONField(default=list)
    text = models.TextField(blank=True, default="")  # the text parts joined: embedded and searched
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    run_id = models.CharField(max_length=200, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    token_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        # Serves "the last N messages of a thread" (scanned backwards) and neighbour lookups.
        indexes = [models.Index(fields=["thread", "created_at", "id"], name="memory_msg_thread_order")]
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class MessageEmbedding(models.Model):
    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="embedding"
    )
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    resource_id = models.CharField(max_length=200)
    embedder = models.CharField(max_length=200)
    dimensions = models.PositiveIntegerField()
    embedding = VectorField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "resource_id", "embedder"]),
        ]

    def __str__(self) -> str:
        return f"{self.embedder} vector of {self.message_id}"


class WorkingMemory(models.Model):
    """Persistent notes about the user or the conversation, scoped to a resource or a thread."""

    class Scope(models.TextChoices):
        RESOURCE = "resource"
        THREAD = "thread"

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(max_length=200, help_text="The resource id or the thread id, by scope.")
    resource_id = models.CharField(max_length=200)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    format = models.CharField(max_length=16, choices=[("markdown", "markdown"), ("json", "json")])
    markdown = models.TextField(blank=True, default="")
    data = models.JSONField(null=True, blank=True)
    # The schema and limit last applied, so edits through the API and admin are validated the same way.
    json_schema = models.JSONField(null=True, blank=True)
    max_chars = models.PositiveIntegerField(default=4000)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "scope", "key"], name="memory_wm_unique_scope_key")
        ]
        verbose_name_plural = "working memories"

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


class KnowledgeDocument(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        INDEXED = "indexed"
        FAILED = "failed"

    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=300)
    filename = models.CharField(max_length=300, blank=True, default="")
    media_type = models.CharField(max_length=100, default="text/plain")
    text = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    chunk_size = models.PositiveIntegerField(default=1000)
    chunk_overlap = models.PositiveIntegerField(default=150)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class KnowledgeChunk(models.Model):
    document = models.ForeignKey(KnowledgeDocument, on_delete=models.CASCADE, related_name="chunks")
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="+")
    position = models.PositiveIntegerField()
    text = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    embedder = models.CharField(max_length=200)
    dimensions = models.PositiveIntegerField()
    embedding = VectorField()

    class Meta:
        ordering = ["document", "position"]
        indexes = [
            models.Index(fields=["tenant", "embedder"]),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.position}"
