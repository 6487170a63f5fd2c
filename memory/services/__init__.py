"""Memory writes. The runtime calls these; `memory` never imports `agents`."""

from memory.services.context import MemoryContext, RecalledMessage, limit_tokens, memory_context_build, recall
from memory.services.embeddings import messages_embed, messages_embed_pending, reembed_all
from memory.services.knowledge import (
    KnowledgeHit,
    document_create,
    document_delete,
    document_ingest,
    document_text_extract,
    knowledge_search,
)
from memory.services.messages import (
    History,
    MessageInput,
    Resent,
    message_resend,
    message_save,
    message_save_ensuring_thread,
    message_save_with_history,
    messages_embed_enqueue,
)
from memory.services.resources import memory_resource_for
from memory.services.threads import (
    resource_data_delete,
    thread_create,
    thread_delete,
    thread_ensure,
    thread_title_set,
    thread_update,
)
from memory.services.working_memory import (
    deep_merge,
    working_memory_config_for,
    working_memory_get,
    working_memory_update,
    working_memory_validate,
)

__all__ = [
    "History",
    "KnowledgeHit",
    "MemoryContext",
    "MessageInput",
    "RecalledMessage",
    "Resent",
    "deep_merge",
    "document_create",
    "document_delete",
    "document_ingest",
    "document_text_extract",
    "knowledge_search",
    "limit_tokens",
    "memory_context_build",
    "memory_resource_for",
    "message_resend",
    "message_save",
    "message_save_ensuring_thread",
    "message_save_with_history",
    "messages_embed",
    "messages_embed_enqueue",
    "messages_embed_pending",
    "recall",
    "reembed_all",
    "resource_data_delete",
    "thread_create",
    "thread_delete",
    "thread_ensure",
    "thread_title_set",
    "thread_update",
    "working_memory_config_for",
    "working_memory_get",
    "working_memory_update",
    "working_memory_validate",
]
