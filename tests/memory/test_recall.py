"""Semantic recall with the real offline embedder: meaning, not string match."""

from __future__ import annotations

import pytest

from memory.models import MessageEmbedding
from memory.services import memory_context_build
from tests.memory.conftest import config, say

pytestmark = pytest.mark.django_db(transaction=True)

FILLER = [
    "What is the capital of Australia?",
    "Canberra is the capital of Australia.",
    "Can you recommend a good book on databases?",
    "Try Designing Data-Intensive Applications.",
    "How do I reverse a list in Python?",
    "Use reversed() or slicing with [::-1].",
]


def test_recalls_a_related_message_from_an_old_thread(embedder_local, tenant):
    say(tenant.pk, "old", "u1", "user", "My dog Biscuit is a golden retriever who loves swimming.")
    for i, text in enumerate(FILLER):
        say(tenant.pk, "old", "u1", "user" if i % 2 == 0 else "assistant", text)
    cfg = config(last_messages=5, semantic_recall={"top_k": 1, "message_range": 0, "scope": "resource"})

    context = memory_context_build(
        tenant_id=tenant.pk, thread_id="new", resource_id="u1", config=cfg, query="What breed is my puppy?"
    )

    assert [m.text for m in context.recalled] == ["My dog Biscuit is a golden retriever who loves swimming."]
    assert "golden retriever" in context.system_sections[-1]
    assert "<recalled_messages>" in context.system_sections[-1]


def test_neighbours_around_a_hit_and_no_repeat_of_recent_window(embedder_local, tenant):
    texts = [
        "Let's plan the trip.",
        "Sure, where to?",
        "I'm allergic to peanuts, please remember that for restaurants.",
        "Noted, no peanuts.",
        "Thanks!",
        *FILLER,
    ]
    saved = [
        say(tenant.pk, "t1", "u1", "user" if i % 2 == 0 else "assistant", t) for i, t in enumerate(texts)
    ]
    cfg = config(last_messages=3, semantic_recall={"top_k": 1, "message_range": 1, "scope": "thread"})

    context = memory_context_build(
        tenant_id=tenant.pk, thread_id="t1", resource_id="u1", config=cfg, query="Which foods can't I eat?"
    )

    assert [m.id for m in context.recalled] == [saved[1].pk, saved[2].pk, saved[3].pk]
    assert [m.hit for m in context.recalled] == [False, True, False]
    recent_ids = {m.pk for m in saved[-3:]}
    assert not recent_ids & {m.id for m in context.recalled}
    assert len(context.history) == 3


def test_thread_scope_does_not_reach_other_threads_resource_scope_does(embedder_local, tenant):
    say(tenant.pk, "a", "u1", "user", "My favourite colour is teal.")
    say(tenant.pk, "b", "u1", "user", "How do I bake sourdough bread?")
    query = "what colour do I like best?"
    thread_cfg = config(last_messages=0, semantic_recall={"top_k": 1, "message_range": 0, "scope": "thread"})
    resource_cfg = config(
        last_messages=0, semantic_recall={"top_k": 1, "message_range": 0, "scope": "resource"}
    )

    in_thread = memory_context_build(
        tenant_id=tenant.pk, thread_id="b", resource_id="u1", config=thread_cfg, query=query
    )
    in_resource = memory_context_build(
        tenant_id=tenant.pk, thread_id="b", resource_id="u1", config=resource_cfg, query=query
    )

    assert [m.text for m in in_thread.recalled] == ["How do I bake sourdough bread?"]
    assert [m.text for m in in_resource.recalled] == ["My favourite colour is teal."]


def test_recall_never_crosses_owner_or_tenant(embedder_local, tenant):
    from tests.memory.conftest import new_tenant

    other = new_tenant()
    say(other.pk, "x", "u1", "user", "My favourite colour is teal.")
    say(tenant.pk, "y", "u2", "user", "My favourite colour is teal.")
    cfg = config(last_messages=0, semantic_recall={"top_k": 5, "message_range": 0})

    context = memory_context_build(
        tenant_id=tenant.pk, thread_id="z", resource_id="u1", config=cfg, query="favourite colour"
    )

    assert context.recalled == []


def test_embeddings_record_their_embedder(embedder_local, tenant):
    message = say(tenant.pk, "t", "u1", "user", "hello there")
    row = MessageEmbedding.objects.get(message=message)
    assert row.embedder == "local/all-MiniLM-L6-v2"
    assert row.dimensions == 384
