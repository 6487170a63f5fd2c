"""Memory models: threads, messages and their embeddings, working memory, knowledge."""

from __future__ import annotations

from django.conf import settings
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


def _owner_field(help_text: str) -> models.ForeignKey:
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=help_text,
    )


def _thread_of(*, null: bool = False) -> models.ForeignObject:
    """The thread a row belongs to, by (tenant, thread id): thread ids are unique per tenant only."""
    return models.ForeignObject(
        "memory.Thread",
        on_delete=models.CASCADE,
        from_fields=["tenant", "thread_id"],
        to_fields=["tenant", "id"],
        related_name="+",
        null=null,
    )


class Thread(models.Model):
    """A conversation inside a tenant: about a resource (the user, or any id a tenant admin
    names), owned by the user who created it.

    `id` is the client's chat id, unique within the tenant (another tenant may use the
    same id); `key` is the row's own key.
    """

    key = models.BigAutoField(primary_key=True)
    id = models.CharField(max_length=200)
    tenant = models.ForeignKey("core.Tenant", on_delete=models.CASCADE, related_name="threads")
    owner = _owner_field("The user who created the thread (docs/security.md).")
    resource_id = models.CharField(max_length=200)
    agent_id = models.CharField(max_length=200, blank=True, default="")
    title = models.CharField(max_length=300, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    # Whether an agent that recalls semantically has taken part: only then are the thread's
    # messages embedded (set by that agent's first turn here, kept afterwards).
    recall = models.BooleanField(default=False, db_default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "id"], name="memory_thread_tenant_id_unique")
        ]
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
    thread_id = models.CharField(max_length=200)
    thread = _thread_of()  # a message's owner is its thread's
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
    # The id the client gave the message (the AI SDK's UIMessage id, a socket frame's
    # clientId): a message sent again with it is the same message, never a second one.
    client_id = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        # Serves "the last N messages of a thread" (scanned backwards) and neighbour lookups.
        indexes = [models.Index(fields=["thread_id", "created_at", "id"], name="memory_msg_thread_order")]
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "thread_id", "client_id"],
                condition=~models.Q(client_id=""),
                name="memory_msg_thread_client_id_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text[:60]}"


class MessageEmbedding(models.Model):
    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="embedding"
    )
    thread_id = models.CharField(max_length=200)
    thread = _thread_of()
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
    owner = _owner_field("The user whose notes these are, or who last wrote them for a resource.")
    thread_id = models.CharField(max_length=200, null=True, blank=True)
    thread = _thread_of(null=True)
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
    owner = _owner_field("The user who uploaded it; empty: the tenant's (only tenant admins delete it).")
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
