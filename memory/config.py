"""How an agent uses memory: stored as JSON on the agent definition.

Validate with `MemoryConfig.model_validate(data)`.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic

Scope = Literal["resource", "thread"]
# Which vectors recall searches: every agent's messages in scope ("shared", the default),
# or only messages of this agent's own threads ("agent", a dedicated index).
RecallIndex = Literal["shared", "agent"]


class SemanticRecallConfig(pydantic.BaseModel):
    """Recall the `top_k` most similar past messages plus `message_range` neighbours each side."""

    model_config = pydantic.ConfigDict(extra="forbid")

    top_k: int = pydantic.Field(default=3, ge=1, le=50)
    message_range: int = pydantic.Field(default=2, ge=0, le=20)
    scope: Scope = "resource"
    index: RecallIndex = "shared"


class WorkingMemoryConfig(pydantic.BaseModel):
    """A markdown `template` (replaced whole) or a JSON `schema` (merged), never both."""

    model_config = pydantic.ConfigDict(extra="forbid", populate_by_name=True)

    enabled: bool = True
    scope: Scope = "resource"
    template: str | None = None
    json_schema: dict[str, Any] | None = pydantic.Field(default=None, alias="schema")
    max_chars: int = pydantic.Field(default=4000, ge=100, le=100_000)

    @pydantic.model_validator(mode="after")
    def _one_format(self) -> WorkingMemoryConfig:
        if self.template is not None and self.json_schema is not None:
            raise ValueError("working memory takes a markdown template or a JSON schema, not both")
        if self.json_schema is not None:
            import jsonschema

            jsonschema.Draft202012Validator.check_schema(self.json_schema)
        return self

    @property
    def format(self) -> Literal["markdown", "json"]:
        return "json" if self.json_schema is not None else "markdown"


DEFAULT_TEMPLATE = "# About the user\n- Name:\n- Preferences:\n- Facts to remember:\n"


class MemoryConfig(pydantic.BaseModel):
    """Memory is on for every agent unless `enabled` is false (a routing or one-shot agent):
    then its runs are stateless and a request that names a thread is refused."""

    model_config = pydantic.ConfigDict(extra="forbid")

    enabled: bool = True
    last_messages: int = pydantic.Field(default=20, ge=0, le=500)
    semantic_recall: SemanticRecallConfig | None = None
    working_memory: WorkingMemoryConfig | None = None
    token_limit: int | None = pydantic.Field(default=None, ge=1)
    drop_tool_calls: bool = False
    generate_titles: bool = False
