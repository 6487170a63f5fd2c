"""Thread titles from a cheap model, through the scripted server."""

from __future__ import annotations

import pytest

from agents.tasks import thread_title_generate
from memory.models import Thread
from tests.fakes.openai_server import ChatReply
from tests.memory.conftest import say

pytestmark = pytest.mark.django_db(transaction=True)


def test_title_is_generated_once_from_the_first_exchange(openai_server, settings, tenant):
    settings.EMBEDDER = "scripted/embed-test"
    settings.MEMORY_TITLE_MODEL = "scripted/gpt-test-mini"
    say(tenant.pk, "t", "u1", "user", "How do I make a sourdough starter?")
    say(tenant.pk, "t", "u1", "assistant", "Mix flour and water and feed it daily.")
    openai_server.script(ChatReply(text='"Making a Sourdough Starter"'))

    assert thread_title_generate(tenant_id=tenant.pk, thread_id="t") == "Making a Sourdough Starter"
    assert Thread.objects.get(id="t").title == "Making a Sourdough Starter"
    [request] = openai_server.chat_requests
    assert request.body["model"] == "gpt-test-mini"
    assert "sourdough starter" in request.messages[-1]["content"]
    assert thread_title_generate(tenant_id=tenant.pk, thread_id="t") is None  # already titled: no model call
