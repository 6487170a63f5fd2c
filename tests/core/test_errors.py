"""`details` is one flat map of dotted field paths to lists of messages, however deep the error."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ValidationFailed, flat_details


def flat(body: dict[str, Any]) -> dict[str, list[str]]:
    """The details of a validation error, checked to be flat: every value a list of strings."""
    assert body["code"] == "validation_error", body
    details = body["details"]
    for key, value in details.items():
        assert isinstance(value, list), (key, value)
        assert all(isinstance(message, str) for message in value), (key, value)
        assert not key.endswith("non_field_errors") or key == "non_field_errors", key
    return details


def test_nested_errors_become_dotted_paths_and_context_is_kept():
    nested = {
        "messages": [{}, {"parts": {"0": {"text": ["Not a valid string."]}}}],
        "memory": {"resource": ["Not yours."]},
        "structuredOutput": {"non_field_errors": ["Expected a dictionary."]},
        "non_field_errors": ["Send either messages or prompt."],
        "traceId": "t-1",
    }
    assert flat_details(nested) == {
        "messages.1.parts.0.text": ["Not a valid string."],
        "memory.resource": ["Not yours."],
        "structuredOutput": ["Expected a dictionary."],
        "non_field_errors": ["Send either messages or prompt."],
        "traceId": "t-1",
    }
    assert ValidationFailed(details={"a": {"b": ["x"]}}).details == {"a.b": ["x"]}


@pytest.mark.parametrize(
    ("payload", "paths"),
    [
        ({"messages": [{"role": "wizard", "content": "x"}]}, ["messages.0.role"]),
        ({"prompt": "x", "structuredOutput": "x"}, ["structuredOutput"]),
        ({"prompt": "x", "structuredOutput": {"schema": 5}}, ["structuredOutput.schema"]),
        ({"prompt": "x", "requestContext": {"undeclared": 1}}, ["requestContext"]),
        ({"prompt": "x", "requestContext": {"tenantId": 1}}, ["requestContext.tenantId"]),
    ],
)
@pytest.mark.django_db(transaction=True)  # the runtime checks the request context on its own connection
def test_generate_errors_are_flat(api_client, make_agent, openai_server, payload, paths):
    make_agent()
    response = api_client.post("/api/agents/helper/generate", payload, format="json")
    assert response.status_code == 400, response.content
    assert list(flat(response.json())) == paths


USER = {"role": "user", "parts": [{"type": "text", "text": "hi"}]}


@pytest.mark.parametrize(
    ("messages", "paths"),
    [
        ([{"role": "user", "parts": [{"type": "text", "text": 5}]}], ["messages.0.parts.0.text"]),
        ([{"role": "assistant", "parts": [{"type": "text", "text": "x"}]}], ["messages"]),
        ([USER, "not a message", USER], ["messages.1"]),
    ],
)
def test_chat_errors_are_flat(api_client, make_agent, messages, paths):
    make_agent()
    response = api_client.post("/api/agents/helper/chat", {"id": "c1", "messages": messages}, format="json")
    assert response.status_code == 400, response.content
    assert list(flat(response.json())) == paths
