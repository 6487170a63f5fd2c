"""Context assembly: recent window, the current turn, the token limiter, deletion."""

from __future__ import annotations

from typing import Any

import pytest

from core.access import Actor
from memory import tokens
from memory.models import Message, MessageEmbedding, Thread, WorkingMemory
from memory.services import (
    limit_tokens,
    memory_context_build,
    resource_data_delete,
    thread_delete,
    working_memory_update,
)
from tests.memory.conftest import config, say

pytestmark = pytest.mark.django_db(transaction=True)


def test_last_messages_window_excludes_the_current_turn(openai_server, settings, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    for i in range(6):
        say(tenant.pk, "t", "u1", "user" if i % 2 == 0 else "assistant", f"message {i}")
    say(tenant.pk, "t", "u1", "user", "the new question")

    context = memory_context_build(
        tenant_id=tenant.pk,
        thread_id="t",
        resource_id="u1",
        config=config(last_messages=3),
        query="the new question",
    )

    assert [m["content"] for m in context.history] == ["message 3", "message 4", "message 5"]


def test_token_limiter_trims_oldest_first_and_drops_orphaned_tool_results():
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "one " * 50},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "result " * 20},
        {"role": "user", "content": "two"},
        {"role": "assistant", "content": "three"},
    ]
    budget = tokens.count_message(history[-1]) + tokens.count_message(history[-2]) + 1

    trimmed = limit_tokens(history, budget)

    assert trimmed == history[-2:]
    assert sum(tokens.count_message(m) for m in trimmed) <= budget
    assert limit_tokens(history, 10_000) == history
    # removing the tool call leaves its result orphaned: it goes too
    just_after_call = sum(tokens.count_message(m) for m in history[2:])
    assert limit_tokens(history, just_after_call)[0]["role"] == "user"


def test_deleting_a_thread_or_a_resource_removes_messages_embeddings_and_memory(
    openai_server, settings, tenant
):
    settings.EMBEDDER = "scripted/embed-test"
    wm_thread = config(working_memory={"scope": "thread"})
    wm_resource = config(working_memory={})
    for thread in ("a", "b"):
        say(tenant.pk, thread, "u1", "user", f"hello from {thread}")
        working_memory_update(
            tenant_id=tenant.pk, thread_id=thread, resource_id="u1", config=wm_thread, content="x"
        )
    working_memory_update(
        tenant_id=tenant.pk, thread_id="a", resource_id="u1", config=wm_resource, content="y"
    )
    say(tenant.pk, "other", "u2", "user", "someone else")
    assert MessageEmbedding.objects.count() == 3

    thread_delete(tenant_id=tenant.pk, thread_id="a")

    assert not Thread.objects.filter(id="a").exists()
    assert not Message.objects.filter(thread_id="a").exists()
    assert MessageEmbedding.objects.count() == 2
    assert set(WorkingMemory.objects.values_list("key", flat=True)) == {"b", "u1"}

    assert resource_data_delete(actor=Actor.system(tenant_id=tenant.pk), resource_id="u1") == 1
    assert list(Thread.objects.values_list("id", flat=True)) == ["other"]
    assert MessageEmbedding.objects.count() == 1
    assert not WorkingMemory.objects.exists()
