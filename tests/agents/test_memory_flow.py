"""Memory through the runtime: a fact saved to working memory in one thread, and a
message recalled semantically, both reach the model in a new thread; the user's
message is stored before the model is called and survives a provider failure."""

from __future__ import annotations

import pytest

from agents.runtime import MemoryOptions, generate
from core.context import RequestContext
from tests.fakes.openai_server import ChatReply, ToolCall

pytestmark = pytest.mark.django_db(transaction=True)

MEMORY = {
    "last_messages": 4,
    "semantic_recall": {"top_k": 1, "message_range": 1},
    "working_memory": {"template": "# User\n- Name:\n"},
}


def _turn(ctx: RequestContext, thread_id: str, prompt: str) -> str:
    result = generate("helper", context=ctx, prompt=prompt, memory=MemoryOptions(thread_id=thread_id))
    return result.text


def test_the_agent_remembers_across_threads(openai_server, settings, make_agent, user, embedder_local):
    make_agent(tools=["update_working_memory"], memory=MEMORY)
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))
    openai_server.script(
        ChatReply(
            tool_calls=[
                ToolCall(name="update_working_memory", arguments={"content": "# User\n- Name: Ada\n"})
            ]
        ),
        ChatReply(text="Nice to meet you, Ada."),
        ChatReply(text="Noted: no cilantro."),
        ChatReply(text="You are Ada, and you dislike cilantro."),
    )

    _turn(ctx, "monday", "Hi, I'm Ada.")
    _turn(ctx, "monday", "I can't stand cilantro in my food.")
    answer = _turn(ctx, "friday", "Suggest a dinner for me, remembering what I dislike.")

    assert answer == "You are Ada, and you dislike cilantro."
    sent = openai_server.chat_requests[-1].messages
    system = "\n".join(m["content"] for m in sent if m["role"] == "system")
    assert "- Name: Ada" in system.split("<working_memory")[1]
    recalled = system.split("<recalled_messages>")[1]
    assert "I can't stand cilantro in my food." in recalled
    assert all(
        m["role"] != "assistant" or "Ada" not in (m["content"] or "") for m in sent
    )  # a new thread: no history

    from memory.models import Message

    monday = list(
        Message.objects.filter(thread_id="monday").order_by("created_at").values_list("role", "status")
    )
    assert monday == [("user", "complete"), ("assistant", "complete")] * 2
    first_answer = Message.objects.filter(thread_id="monday", role="assistant").order_by("created_at")[0]
    assert [p["type"] for p in first_answer.parts] == ["tool-call", "tool-result", "text"]
    assert first_answer.parts[1]["output"]["ok"] is True


@pytest.fixture
def embedder_local(settings, local_embedder):
    settings.EMBEDDER = "local"
    return local_embedder


@pytest.fixture(scope="session")
def local_embedder():
    from memory.embedders import embedder_get

    embedder = embedder_get("local")
    embedder.embed(["warm up"])
    return embedder


def test_a_provider_failure_keeps_the_user_message_and_records_the_run_failed(
    openai_server, settings, make_agent, user
):
    from agents.models import Run
    from agents.providers.calls import ProviderUnavailable
    from memory.models import Message, MessageEmbedding
    from tests.fakes.openai_server import Fault

    settings.EMBEDDER = "scripted/embed-test"
    make_agent(memory={"last_messages": 10, "semantic_recall": {"top_k": 1}})
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))
    openai_server.script(Fault(status=400), ChatReply(text="Back again."))

    with pytest.raises(ProviderUnavailable):
        _turn(ctx, "t", "Are you there?")

    assert list(Message.objects.values_list("role", "text")) == [("user", "Are you there?")]
    assert Run.objects.get().status == "failed"
    # Its embedding is enqueued when the run ends, failed or not (recall finds it later).
    assert MessageEmbedding.objects.filter(message__text="Are you there?").exists()
    _turn(ctx, "t", "Hello again?")
    sent = openai_server.chat_requests[-1].messages
    assert [m["content"] for m in sent if m["role"] == "user"] == ["Are you there?", "Hello again?"]


def test_a_dedicated_recall_index_searches_only_the_agents_own_threads(
    openai_server, settings, make_agent, user
):
    """The shared index (the default) recalls what the user told another agent; an agent with
    `index: "agent"` recalls only from its own threads."""
    settings.EMBEDDER = "scripted/embed-test"
    recall = {"top_k": 2, "message_range": 0, "scope": "resource"}
    make_agent("other", tools=[], memory={"semantic_recall": recall})
    make_agent("sharer", tools=[], memory={"semantic_recall": recall})
    make_agent("private", tools=[], memory={"semantic_recall": {**recall, "index": "agent"}})
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))
    openai_server.script(*(ChatReply(text=f"answer {i}") for i in range(5)))

    def turn(agent: str, thread: str, prompt: str) -> str:
        generate(agent, context=ctx, prompt=prompt, memory=MemoryOptions(thread_id=thread))
        sent = openai_server.chat_requests[-1].messages
        return "\n".join(m["content"] for m in sent if m["role"] == "system")

    turn("other", "with-other", "I can't stand cilantro in my food.")
    assert "cilantro" in turn("sharer", "with-sharer", "What do I dislike?").split("<recalled_messages>")[1]
    private = turn("private", "with-private", "What do I dislike?")
    assert "cilantro" not in private
    turn("private", "with-private", "I like basil.")
    assert "What do I dislike?" in turn("private", "private-2", "And now?").split("<recalled_messages>")[1]


def test_recall_embeds_the_query_only_when_something_in_scope_could_be_recalled(
    openai_server, settings, make_agent, user
):
    """A first turn has nothing to recall: it makes no embedding call before the model's (on a
    fresh process it would wait for the local model to load). Once an older message is out of the
    recent window, the query is embedded and the message recalled."""
    settings.EMBEDDER = "scripted/embed-test"
    make_agent(memory={"last_messages": 1, "semantic_recall": {"top_k": 2, "message_range": 0}})
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))
    openai_server.script(ChatReply(text="Noted."), ChatReply(text="Walnuts."))

    def embedded_before_the_model_call() -> list[str]:
        """The texts embedded since the previous model call and before the latest."""
        requests = openai_server.requests
        chats = [i for i, r in enumerate(requests) if r.path.endswith("/chat/completions")]
        start = chats[-2] + 1 if len(chats) > 1 else 0
        texts: list[str] = []
        for r in requests[start : chats[-1]]:
            if r.path.endswith("/embeddings"):
                texts += [r.body["input"]] if isinstance(r.body["input"], str) else r.body["input"]
        return texts

    _turn(ctx, "t", "I am allergic to walnuts.")
    assert embedded_before_the_model_call() == []

    _turn(ctx, "t", "What am I allergic to?")
    assert "What am I allergic to?" in embedded_before_the_model_call()  # the recall query
    system = [m["content"] for m in openai_server.chat_requests[-1].messages if m["role"] == "system"]
    assert "allergic to walnuts" in "\n".join(system)
