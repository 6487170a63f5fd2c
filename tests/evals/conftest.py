"""An agent on the scripted model, actors of the owner model, and a small dataset."""

from __future__ import annotations

from typing import Any

import pytest

from agents.services import agent_save, tools_sync
from core.access import Actor, actor_for_user
from core.models import Membership
from tests.evals import tools, workflow_defs  # noqa: F401  (registers eval_send_email and eval-triage)
from tests.factories import UserFactory


@pytest.fixture
def actor(user: Any) -> Actor:
    return actor_for_user(user)


@pytest.fixture
def other_member(tenant: Any) -> Actor:
    user: Any = UserFactory(tenant=tenant)
    return actor_for_user(user)


@pytest.fixture
def tenant_admin(tenant: Any) -> Actor:
    user: Any = UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN)
    return actor_for_user(user)


@pytest.fixture
def other_tenant_actor(db: None) -> Actor:
    user: Any = UserFactory()
    return actor_for_user(user)


@pytest.fixture
def eval_agent(openai_server: Any, db: None) -> Any:
    """The agent `evalbot` on the scripted model with a harmless and a side-effecting tool."""
    tools_sync()
    return agent_save(
        slug="evalbot",
        name="Eval bot",
        instructions="You answer questions.",
        model="scripted/gpt-test",
        max_steps=3,
        tools=["current_time", "eval_send_email"],
    )


CASES: list[dict[str, Any]] = [
    {
        "name": "capital",
        "input": "What is the capital of France?",
        "expected_output": "Paris",
        "tags": ["geo"],
    },
    {
        "name": "time",
        "input": "What time is it in Tokyo?",
        "expected_tools": ["current_time"],
        "expected_tool_calls": [{"name": "current_time", "arguments": {"timezone": "Asia/Tokyo"}}],
    },
]


@pytest.fixture
def dataset(actor: Actor) -> Any:
    from evals.services.datasets import dataset_import

    return dataset_import(actor=actor, data={"name": "basics", "cases": CASES})
