"""An idempotent replay of a run with memory stores nothing new."""

from __future__ import annotations

import pytest

from agents.runtime import MemoryOptions, RunOptions, generate
from core.context import RequestContext
from memory.models import Message
from tests.fakes.openai_server import ChatReply

pytestmark = pytest.mark.django_db


def test_a_replay_with_memory_stores_nothing_new(openai_server, settings, make_agent, user):
    settings.EMBEDDER = "scripted/embed-test"
    make_agent(memory={"last_messages": 10})
    ctx = RequestContext(tenant_id=user.membership.tenant_id, user_id=user.pk, resource_id=str(user.pk))
    openai_server.script(ChatReply(text="Hello, Ada."))

    def turn():
        return generate(
            "helper",
            context=ctx,
            prompt="Hi, I'm Ada.",
            memory=MemoryOptions(thread_id="replayed"),
            options=RunOptions(idempotency_key="turn-1"),
        )

    first = turn()
    again = turn()

    assert again.replayed is True
    assert again.run_id == first.run_id
    assert list(Message.objects.filter(thread_id="replayed").values_list("role", "text")) == [
        ("user", "Hi, I'm Ada."),
        ("assistant", "Hello, Ada."),
    ]
    assert len(openai_server.chat_requests) == 1
