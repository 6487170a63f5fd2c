"""Changing embedder: vectors are never mixed, and memory_reembed brings them up to date."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from memory.models import KnowledgeChunk, MessageEmbedding
from memory.services import document_create, knowledge_search, memory_context_build
from tests.memory.conftest import config, say

pytestmark = pytest.mark.django_db(transaction=True)


def test_switching_embedder_then_reembedding(openai_server, settings, tenant, local_embedder):
    settings.EMBEDDER = "scripted/embed-test"
    say(tenant.pk, "t", "u1", "user", "My sister lives in Lisbon.")
    document_create(tenant_id=tenant.pk, title="Doc", text="Refunds within 30 days.")
    assert set(MessageEmbedding.objects.values_list("embedder", flat=True)) == {"scripted/embed-test"}

    settings.EMBEDDER = "local"
    cfg = config(last_messages=0, semantic_recall={"top_k": 3, "message_range": 0})
    before = memory_context_build(
        tenant_id=tenant.pk, thread_id="new", resource_id="u1", config=cfg, query="family"
    )
    assert before.recalled == []  # old vectors come from another embedder: not compared
    assert knowledge_search(tenant_id=tenant.pk, query="refund") == []

    out = io.StringIO()
    call_command("memory_reembed", stdout=out)

    assert "Re-embedded 1 messages and 1 chunks" in out.getvalue()
    assert set(MessageEmbedding.objects.values_list("embedder", flat=True)) == {"local/all-MiniLM-L6-v2"}
    assert set(KnowledgeChunk.objects.values_list("embedder", flat=True)) == {"local/all-MiniLM-L6-v2"}
    after = memory_context_build(
        tenant_id=tenant.pk,
        thread_id="new",
        resource_id="u1",
        config=cfg,
        query="where does my sibling live?",
    )
    assert [m.text for m in after.recalled] == ["My sister lives in Lisbon."]
