"""Parsing the provider's stream: the first delta of a read is handed on before the rest is parsed."""

from __future__ import annotations

import json

from agents.providers.openai_client import _StreamAssembler, _through_first_delta


def _line(delta: dict[str, object], finish: str | None = None) -> bytes:
    chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "model": "m"}
    return b"data: " + json.dumps(chunk).encode()


def test_the_first_delta_of_a_read_comes_out_alone_and_nothing_is_lost() -> None:
    assembler = _StreamAssembler()
    read = [
        _line({"role": "assistant"}),
        b"",
        _line({"content": "Hel"}),
        b"",
        _line({"content": "lo"}),
        _line({}, finish="stop"),
        b"data: [DONE]",
    ]

    first, rest = _through_first_delta(assembler, read)
    assert first == [("text", "Hel")]
    batch, done = assembler.feed_lines(rest)
    assert batch == [("text", "lo")]
    assert done
    response = assembler.finish()
    assert (response.text, response.finish_reason) == ("Hello", "stop")


def test_a_read_without_a_delta_is_parsed_whole_and_done_is_still_seen() -> None:
    assembler = _StreamAssembler()
    first, rest = _through_first_delta(assembler, [_line({"role": "assistant"}), b": keep-alive"])
    assert (first, rest) == ([], [])
    first, rest = _through_first_delta(assembler, [b"data: [DONE]"])
    assert first == []
    assert assembler.feed_lines(rest) == ([], True)
