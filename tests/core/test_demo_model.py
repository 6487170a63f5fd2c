"""The scripted demo model the README offers for trying the product without a real one."""

from __future__ import annotations

from tests.fakes.openai_server import ChatReply
from tests.fakes.responders import demo_responder


def _tools(*names: str) -> list[dict[str, object]]:
    return [{"type": "function", "function": {"name": n}} for n in names]


def test_it_saves_facts_to_working_memory_and_answers_from_memory():
    save = demo_responder(
        {
            "messages": [{"role": "user", "content": "My name is Ada. I live in Oslo."}],
            "tools": _tools("update_working_memory"),
        }
    )
    assert isinstance(save, ChatReply)
    assert save.tool_calls[0].name == "update_working_memory"
    assert save.tool_calls[0].arguments == {"content": "# About the user\n- Ada\n- Oslo\n"}

    system = '<working_memory format="markdown" scope="resource">\n- Ada\n</working_memory>\n<recalled_messages>\nuser: I live in Oslo\n</recalled_messages>'
    answer = demo_responder(
        {"messages": [{"role": "system", "content": system}, {"role": "user", "content": "What is my name?"}]}
    )
    assert isinstance(answer, ChatReply)
    assert "- Ada" in answer.text
    assert "I live in Oslo" in answer.text


def test_it_uses_the_time_and_workspace_tools_and_quotes_tool_results():
    timed = demo_responder(
        {"messages": [{"role": "user", "content": "What time is it?"}], "tools": _tools("current_time")}
    )
    assert isinstance(timed, ChatReply)
    assert timed.tool_calls[0].name == "current_time"
    note = demo_responder(
        {"messages": [{"role": "user", "content": "tidal energy"}], "tools": _tools("workspace_append_note")}
    )
    assert isinstance(note, ChatReply)
    assert note.tool_calls[0].arguments == {"title": "findings", "text": "Notes on tidal energy"}
    quoted = demo_responder({"messages": [{"role": "tool", "content": '{"ok": true}'}]})
    assert isinstance(quoted, ChatReply)
    assert quoted.text == 'Here is what I found: `{"ok": true}`'


def test_it_titles_a_thread_from_the_users_first_words_and_knows_a_few_cities():
    from agents.tasks import TITLE_PROMPT

    titled = demo_responder(
        {
            "messages": [
                {"role": "system", "content": TITLE_PROMPT},
                {
                    "role": "user",
                    "content": "user: What **time** is it in Tokyo right now?\nassistant: Noon.",
                },
            ]
        }
    )
    assert isinstance(titled, ChatReply)
    assert titled.text == "What time is it in Tokyo"
    timed = demo_responder(
        {
            "messages": [{"role": "user", "content": "What time is it in Tokyo?"}],
            "tools": _tools("current_time"),
        }
    )
    assert isinstance(timed, ChatReply)
    assert timed.tool_calls[0].arguments == {"timezone": "Asia/Tokyo"}
