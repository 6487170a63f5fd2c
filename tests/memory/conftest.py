"""Memory fixtures: the real local embedder, loaded once per session."""

from __future__ import annotations

from typing import Any

import pytest

from memory.config import MemoryConfig
from memory.embedders import embedder_get
from memory.services import MessageInput, message_save, thread_ensure


@pytest.fixture(scope="session")
def local_embedder() -> Any:
    embedder = embedder_get("local")
    embedder.embed(["warm up"])  # loads the model (a few seconds)
    return embedder


@pytest.fixture
def embedder_local(settings: Any, local_embedder: Any) -> Any:
    settings.EMBEDDER = "local"
    return local_embedder


def say(
    tenant_id: int,
    thread_id: str,
    resource_id: str,
    role: str,
    text: str,
    *,
    mid: str | None = None,
    recall: bool = True,
) -> Any:
    """Save a one-text-part message (creating the thread), as an agent that recalls does
    (`recall=False`: as one that does not, so it is not embedded)."""
    import uuid

    thread_ensure(tenant_id=tenant_id, thread_id=thread_id, resource_id=resource_id)
    return message_save(
        tenant_id=tenant_id,
        thread_id=thread_id,
        message=MessageInput(id=mid or uuid.uuid4().hex, role=role, parts=[{"type": "text", "text": text}]),  # type: ignore[arg-type]
        recall=recall,
    )


def config(**kwargs: Any) -> MemoryConfig:
    return MemoryConfig.model_validate(kwargs)


def new_tenant() -> Any:
    from tests.factories import TenantFactory

    return TenantFactory()


def new_user(tenant: Any = None) -> Any:
    from tests.factories import UserFactory

    return UserFactory(tenant=tenant)
