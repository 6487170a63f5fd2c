"""Memory tools: update the working memory, search the tenant's knowledge."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from agents.runtime.spec import agent_spec_load
from agents.tools import ToolContext, tool, toolkit_register
from core.errors import ValidationFailed
from memory.config import MemoryConfig
from memory.services import knowledge_search as knowledge_search_service
from memory.services import working_memory_update


class UpdateWorkingMemoryIn(BaseModel):
    content: str | dict[str, Any] = Field(
        description="Markdown: the complete new working memory. JSON: an object merged into the stored one "
        "(objects merge, null deletes a key, arrays replace)."
    )


class UpdateWorkingMemoryOut(BaseModel):
    ok: bool
    message: str
    errors: dict[str, Any] = Field(default_factory=dict)


def _resource_id(ctx: ToolContext) -> str:
    rc = ctx.request_context
    return rc.resource_id or (str(rc.user_id) if rc.user_id is not None else "")


@tool(
    id="update_working_memory",
    description="Save what you learned about the user or this conversation to your working memory.",
    side_effect="write",
    label="Updating memory…",
    timeout_s=10,
)
def update_working_memory(ctx: ToolContext, args: UpdateWorkingMemoryIn) -> UpdateWorkingMemoryOut:
    """Validation failures are the tool's result (the model can correct itself), never stored."""
    spec = agent_spec_load(slug=ctx.agent_id, tenant_id=ctx.tenant_id)
    config = MemoryConfig.model_validate(spec.memory or {})
    if not ctx.thread_id or not _resource_id(ctx):
        return UpdateWorkingMemoryOut(ok=False, message="This run has no memory thread; nothing was stored.")
    try:
        working_memory_update(
            tenant_id=ctx.tenant_id,
            thread_id=ctx.thread_id,
            resource_id=_resource_id(ctx),
            config=config,
            content=args.content,
            owner_id=ctx.request_context.user_id,
        )
    except ValidationFailed as error:
        return UpdateWorkingMemoryOut(ok=False, message=f"Not stored: {error.message}", errors=error.details)
    return UpdateWorkingMemoryOut(ok=True, message="Working memory updated.")


class KnowledgeSearchIn(BaseModel):
    query: str = Field(min_length=1, max_length=2000, description="What to look for, in natural language.")
    filters: dict[str, Any] | None = Field(
        default=None, description='Metadata the chunks must contain, for example {"category": "billing"}.'
    )
    top_k: int = Field(default=5, ge=1, le=20)


class KnowledgeChunkOut(BaseModel):
    document_id: int
    title: str
    text: str
    score: float
    metadata: dict[str, Any]


class KnowledgeSearchOut(BaseModel):
    results: list[KnowledgeChunkOut]


@tool(
    id="knowledge_search",
    description="Search the organisation's knowledge documents for passages relevant to a question.",
    side_effect="read",
    label="Searching knowledge…",
    timeout_s=20,
)
def knowledge_search(ctx: ToolContext, args: KnowledgeSearchIn) -> KnowledgeSearchOut:
    """Always restricted to the caller's tenant (from the request context, never from arguments)."""
    hits = knowledge_search_service(
        tenant_id=ctx.tenant_id, query=args.query, filters=args.filters, top_k=args.top_k
    )
    return KnowledgeSearchOut(
        results=[
            KnowledgeChunkOut(
                document_id=h.document_id,
                title=h.title,
                text=h.text,
                score=round(h.score, 4),
                metadata=h.metadata,
            )
            for h in hits
        ]
    )


toolkit_register(
    name="memory",
    tools=[update_working_memory, knowledge_search],
    description="Memory: update the working memory, search the tenant's knowledge.",
)
