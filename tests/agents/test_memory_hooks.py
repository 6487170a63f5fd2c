"""Memory defaults: on unless an agent switches it off; messages embedded only where some
agent of the thread recalls them; recall from the shared index or the agent's own."""

from __future__ import annotations

import pytest

from agents.models import Run
from agents.runtime import MemoryOptions, generate
from core.context import RequestContext
from core.errors import ValidationFailed
from memory.models import Message, MessageEmbedding, Thread
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db(transaction=True)

RECALL = {"last_messages": 2, "semantic_recall": {"top_k": 3, "message_range": 0}}


@pytest.fixture
def ctx(user):
    return RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))


@pytest.fixture(autouse=True)
def _scripted_embedder(settings):
    settings.EMBEDDER = "scripted/embed-test"


def _embedding_requests(server) -> int:
    return sum(1 for r in server.requests if r.path.endswith("/embeddings"))


def _turn(ctx, agent: str, thread: str, prompt: str) -> str:
    return generate(agent, context=ctx, prompt=prompt, memory=MemoryOptions(thread_id=thread)).text


def test_memory_is_on_by_default_and_nothing_is_embedded_without_recall(openai_server, make_agent, ctx):
    make_agent(slug="plain")  # no memory settings at all
    openai_server.script(ChatReply(text="Noted."), ChatReply(text="Blue."))
    _turn(ctx, "plain", "t1", "My favourite colour is blue.")
    assert _turn(ctx, "plain", "t1", "What is my favourite colour?") == "Blue."
    sent = openai_server.chat_requests[-1].messages
    assert next(m["content"] for m in sent if m["role"] == "user") == "My favourite colour is blue."
    assert Message.objects.filter(thread_id="t1").count() == 4
    assert _embedding_requests(openai_server) == 0  # no embedding task ran, nor was one queued
    assert not MessageEmbedding.objects.exists()
    assert Thread.objects.get(id="t1").recall is False


def test_an_agent_that_recalls_has_its_turns_embedded(openai_server, make_agent, ctx):
    make_agent(slug="recaller", memory=RECALL)
    openai_server.script(ChatReply(text="Noted."))
    _turn(ctx, "recaller", "t1", "My favourite colour is blue.")
    assert set(MessageEmbedding.objects.values_list("message__text", flat=True)) == {
        "My favourite colour is blue.",
        "Noted.",
    }
    assert Thread.objects.get(id="t1").recall is True


def test_a_thread_a_recalling_agent_took_part_in_keeps_being_embedded(openai_server, make_agent, ctx):
    make_agent(slug="recaller", memory=RECALL)
    make_agent(slug="plain")
    openai_server.script(ChatReply(text="one"), ChatReply(text="two"))
    _turn(ctx, "recaller", "t1", "first")
    _turn(ctx, "plain", "t1", "second")
    assert set(MessageEmbedding.objects.values_list("message__text", flat=True)) == {
        "first",
        "one",
        "second",
        "two",
    }
    make_agent(slug="other")
    openai_server.script(ChatReply(text="three"))
    _turn(ctx, "other", "t2", "third")  # a thread no recalling agent touched
    assert not MessageEmbedding.objects.filter(thread_id="t2").exists()


def test_the_sweep_embeds_only_recalled_threads(openai_server, make_agent, ctx):
    from memory.services.embeddings import messages_embed_pending

    make_agent(slug="plain")
    openai_server.script(ChatReply(text="one"))
    _turn(ctx, "plain", "t1", "first")
    assert messages_embed_pending(older_than_s=0) == 0
    assert _embedding_requests(openai_server) == 0


def test_memory_off_makes_the_agent_stateless(openai_server, make_agent, ctx, api_client):
    make_agent(slug="router", memory={"enabled": False})
    with pytest.raises(ValidationFailed) as refused:
        _turn(ctx, "router", "t1", "route me")
    assert "router" in refused.value.message
    assert not Message.objects.exists()
    assert not Thread.objects.exists()
    assert not Run.objects.exists()
    openai_server.script(ChatReply(text="to billing"))
    assert generate("router", context=ctx, prompt="route me").text == "to billing"  # without a thread: fine
    assert not Message.objects.exists()
    assert api_client.get("/api/agents/router").json()["memoryEnabled"] is False


def _recalled_section(server) -> str:
    system = server.chat_requests[-1].messages[0]["content"]
    return system.split("<recalled_messages>")[1] if "<recalled_messages>" in system else ""


@pytest.mark.parametrize(("index", "sees_the_other_agents"), [("shared", True), ("agent", False)])
def test_recall_searches_the_shared_index_or_only_the_agents_own(
    openai_server, make_agent, ctx, index, sees_the_other_agents
):
    make_agent(slug="writer", memory=RECALL)
    recall = {"top_k": 10, "message_range": 0, "index": index}  # every message in scope
    make_agent(slug="reader", memory={**RECALL, "semantic_recall": recall})
    openai_server.script(ChatReply(text="Oslo is in Norway."), ChatReply(text="Mine."), ChatReply(text="ok"))
    _turn(ctx, "writer", "writer-thread", "Where is Oslo?")
    _turn(ctx, "reader", "reader-old", "A note of the reader's own.")
    _turn(ctx, "reader", "reader-new", "Where is Oslo?")
    recalled = _recalled_section(openai_server)
    assert ("Oslo is in Norway." in recalled) is sees_the_other_agents
    assert "A note of the reader's own." in recalled
