"""Saving messages: upsert by id, parts, conversion, embedding faults."""

from __future__ import annotations

import pytest

from core.errors import Conflict, NotFound, ValidationFailed
from memory.conversion import to_openai_messages
from memory.models import Message, MessageEmbedding, Thread
from memory.services import (
    MessageInput,
    message_save,
    message_save_ensuring_thread,
    message_save_with_history,
    messages_embed_enqueue,
    messages_embed_pending,
    thread_ensure,
)
from tests.fakes.openai_server import EmbeddingReply, Fault

pytestmark = pytest.mark.django_db(transaction=True)


def _text(mid: str, text: str, role: str = "user", status: str = "complete") -> MessageInput:
    return MessageInput(id=mid, role=role, parts=[{"type": "text", "text": text}], status=status)  # type: ignore[arg-type]


def test_repeated_save_updates_instead_of_duplicating(openai_server, settings, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    message_save(
        tenant_id=tenant.pk,
        thread_id="t",
        recall=True,
        message=_text("m1", "Hello wor", "assistant", "partial"),
    )
    first_vector = list(MessageEmbedding.objects.get(message_id="m1").embedding)

    message_save(
        tenant_id=tenant.pk, thread_id="t", recall=True, message=_text("m1", "Hello world", "assistant")
    )

    assert Message.objects.filter(thread_id="t").count() == 1
    row = Message.objects.get(pk="m1")
    assert (row.text, row.status) == ("Hello world", "complete")
    assert MessageEmbedding.objects.filter(message_id="m1").count() == 1
    assert list(MessageEmbedding.objects.get(message_id="m1").embedding) != first_vector
    assert [r.body["input"] for r in openai_server.requests if r.path.endswith("/embeddings")] == [
        ["Hello wor"],
        ["Hello world"],
    ]


def test_unknown_part_type_is_rejected(tenant):
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    bad = MessageInput(id="m", role="user", parts=[{"type": "image-blob"}])
    with pytest.raises(ValidationFailed) as err:
        message_save(tenant_id=tenant.pk, thread_id="t", recall=True, message=bad)
    assert "parts" in err.value.details
    assert not Message.objects.exists()


def test_unknown_role_or_status_is_rejected(tenant):
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    bad = MessageInput(id="m", role="robot", parts=[], status="done")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as err:
        message_save(tenant_id=tenant.pk, thread_id="t", recall=True, message=bad)
    assert set(err.value.details) == {"role", "status"}


def test_thread_of_another_owner_is_not_found_and_another_tenant_has_its_own(tenant):
    from tests.memory.conftest import new_tenant

    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    with pytest.raises(NotFound):
        thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u2")
    with pytest.raises(NotFound):
        message_save(tenant_id=new_tenant().pk, thread_id="t", message=_text("m", "hi"))
    # Thread ids are unique per tenant: the same id in another tenant is another thread.
    other = new_tenant()
    theirs = thread_ensure(tenant_id=other.pk, thread_id="t", resource_id="u1")
    assert theirs.tenant_id == other.pk
    message_save(tenant_id=other.pk, thread_id="t", message=_text("m", "theirs"))
    assert Thread.objects.filter(id="t").count() == 2
    assert not Message.objects.filter(tenant=tenant).exists()


def test_an_id_of_another_thread_conflicts_and_changes_nothing(tenant):
    thread_ensure(tenant_id=tenant.pk, thread_id="a", resource_id="u1")
    thread_ensure(tenant_id=tenant.pk, thread_id="b", resource_id="u1")
    message_save(tenant_id=tenant.pk, thread_id="a", message=_text("m", "first"))
    touched = Thread.objects.get(id="b").updated_at

    with pytest.raises(Conflict):
        message_save(tenant_id=tenant.pk, thread_id="b", message=_text("m", "second"))

    row = Message.objects.get(pk="m")
    assert (row.thread_id, row.text) == ("a", "first")
    assert Thread.objects.get(id="b").updated_at == touched


def test_the_saved_message_is_returned_as_stored(tenant):
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    first = message_save(
        tenant_id=tenant.pk, thread_id="t", recall=True, message=_text("m", "hello there", "assistant")
    )
    again = message_save(
        tenant_id=tenant.pk,
        thread_id="t",
        recall=True,
        message=_text("m", "hello there, friend", "assistant", "partial"),
    )

    stored = Message.objects.get(pk="m")
    assert again.created_at == first.created_at == stored.created_at
    for field in ("thread_id", "tenant_id", "resource_id", "role", "parts", "text", "status", "token_count"):
        assert getattr(again, field) == getattr(stored, field), field
    assert stored.token_count > 0
    assert Thread.objects.get(id="t").updated_at >= again.updated_at


def test_saving_with_the_thread_ensured_creates_it_once_for_its_owner(tenant):
    from tests.memory.conftest import new_tenant

    def save(mid: str, resource_id: str = "u1", tenant_id: int = tenant.pk) -> Message:
        return message_save_ensuring_thread(
            tenant_id=tenant_id,
            thread_id="t",
            resource_id=resource_id,
            agent_id="helper",
            message=_text(mid, "hi"),
        )

    save("m1")
    save("m2")
    thread = Thread.objects.get(id="t")
    assert (thread.tenant_id, thread.resource_id, thread.agent_id) == (tenant.pk, "u1", "helper")
    assert list(Message.objects.filter(thread=thread).values_list("id", flat=True)) == ["m1", "m2"]
    with pytest.raises(NotFound):
        save("m3", resource_id="u2")
    assert not Message.objects.filter(pk="m3").exists()
    other = new_tenant().pk
    save("m4", tenant_id=other)  # another tenant's thread "t": its own
    assert Thread.objects.get(tenant_id=other, id="t").resource_id == "u1"
    assert list(Message.objects.filter(tenant_id=other).values_list("thread_id", flat=True)) == ["t"]


def test_embedder_failure_keeps_the_message_and_is_retried_later(openai_server, settings, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    openai_server.script_embeddings(
        EmbeddingReply(fault=Fault(status=500)), EmbeddingReply(fault=Fault(status=500))
    )
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")

    message_save(tenant_id=tenant.pk, thread_id="t", recall=True, message=_text("m1", "remember me"))

    assert Message.objects.filter(pk="m1").exists()
    assert not MessageEmbedding.objects.exists()
    assert messages_embed_pending(older_than_s=0) == 1  # the periodic sweep
    assert MessageEmbedding.objects.filter(message_id="m1", embedder="scripted/embed-test").exists()


def test_parts_convert_to_chat_history_in_order():
    class M:
        def __init__(self, role, parts):
            self.role, self.parts = role, parts

    messages = [
        M("user", [{"type": "text", "text": "weather in Paris?"}]),
        M(
            "assistant",
            [
                {"type": "reasoning", "text": "call the tool"},
                {"type": "tool-call", "toolCallId": "c1", "toolName": "weather", "input": {"city": "Paris"}},
                {
                    "type": "tool-result",
                    "toolCallId": "c1",
                    "toolName": "weather",
                    "output": {"t": 21},
                    "isError": False,
                },
                {"type": "text", "text": "It is 21 degrees."},
                {"type": "tool-call", "toolCallId": "c2", "toolName": "weather", "input": {}},
            ],
        ),
    ]

    history = to_openai_messages(messages)
    assert history == [
        {"role": "user", "content": "weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": '{"t": 21}'},
        {"role": "assistant", "content": "It is 21 degrees."},
    ]  # the unanswered call c2 (an aborted run) is left out
    assert to_openai_messages(messages, drop_tool_calls=True) == [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": "It is 21 degrees."},
    ]


def test_saving_a_turns_message_returns_the_history_before_it_in_the_same_round_trip(tenant):
    later: list[str] = []

    def save(mid: str, text: str, limit: int = 2) -> list[tuple[str, str, list[dict], str]]:
        _, history = message_save_with_history(
            tenant_id=tenant.pk,
            thread_id="t",
            resource_id="u1",
            agent_id="a",
            message=_text(mid, text),
            history_limit=limit,
            embed_later=later,
            recall=True,
        )
        return history

    assert save("m1", "one") == []  # a new thread, created by the same statement
    assert Thread.objects.get(id="t").resource_id == "u1"
    assert [h[0] for h in save("m2", "two")] == ["m1"]
    assert [(h[0], h[1], h[3]) for h in save("m3", "three")] == [("m1", "user", "one"), ("m2", "user", "two")]
    assert [h[0] for h in save("m4", "four")] == ["m2", "m3"]  # the last `limit`, oldest first
    assert [h[0] for h in save("m4", "four again")] == ["m2", "m3"]  # a repeated save never sees itself
    assert later == ["m1", "m2", "m3", "m4", "m4"]  # left to the caller to embed, none enqueued
    assert not MessageEmbedding.objects.exists()
    assert Message.objects.get(pk="m4").text == "four again"


def test_saving_with_history_into_another_owners_thread_is_not_found(tenant):
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="owner")
    message_save(tenant_id=tenant.pk, thread_id="t", recall=True, message=_text("m1", "secret"))
    with pytest.raises(NotFound):
        message_save_with_history(
            tenant_id=tenant.pk,
            thread_id="t",
            resource_id="intruder",
            agent_id="a",
            message=_text("m2", "let me in"),
            history_limit=10,
        )
    assert list(Message.objects.values_list("id", flat=True)) == ["m1"]


def test_a_turns_messages_are_embedded_in_one_call(openai_server, settings, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    later: list[str] = []
    message_save(
        tenant_id=tenant.pk,
        thread_id="t",
        recall=True,
        message=_text("q", "Where is Oslo?"),
        embed_later=later,
    )
    message_save(
        tenant_id=tenant.pk,
        thread_id="t",
        recall=True,
        message=_text("a", "In Norway.", "assistant"),
        embed_later=later,
    )
    assert not MessageEmbedding.objects.exists()  # left to the caller

    messages_embed_enqueue(message_ids=later)

    assert set(MessageEmbedding.objects.values_list("message_id", flat=True)) == {"q", "a"}
    calls = [r.body["input"] for r in openai_server.requests if r.path.endswith("/embeddings")]
    assert calls == [["Where is Oslo?", "In Norway."]]


def test_a_thread_no_recalling_agent_took_part_in_is_not_embedded(openai_server, settings, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    thread_ensure(tenant_id=tenant.pk, thread_id="t", resource_id="u1")
    later: list[str] = []
    message_save(tenant_id=tenant.pk, thread_id="t", message=_text("q", "Where is Oslo?"), embed_later=later)
    message_save(tenant_id=tenant.pk, thread_id="t", message=_text("a", "In Norway.", "assistant"))
    assert later == []
    assert not MessageEmbedding.objects.exists()
    assert not [r for r in openai_server.requests if r.path.endswith("/embeddings")]
    message_save(
        tenant_id=tenant.pk, thread_id="t", message=_text("b", "Bergen too.", "assistant"), recall=True
    )
    assert Thread.objects.get(id="t").recall is True
    message_save(tenant_id=tenant.pk, thread_id="t", message=_text("c", "And Tromso."), embed_later=later)
    assert later == ["c"]  # the thread is recalled now: later saves are embedded whoever saves them
