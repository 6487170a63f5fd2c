"""JSON a client sends, bounded in depth.

Python's JSON decoder (and everything that walks the value after it: the text
checks, serializers, pydantic, the jsonb encoder) recurses once per level, so a
body of a thousand nested lists fails as a RecursionError, a server error. Every
client JSON value is held to `MAX_JSON_DEPTH` levels instead; deeper is refused
as text that is not acceptable JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

MAX_JSON_DEPTH = 100


class JSONTooDeep(ValueError):
    """A JSON value nested deeper than `MAX_JSON_DEPTH` (a ValueError, like any JSON that does not parse)."""

    def __init__(self) -> None:
        super().__init__(f"JSON nested more than {MAX_JSON_DEPTH} levels deep is not accepted.")


def json_too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `value` has objects or arrays nested more than `limit` levels (counted without
    recursion: a stack of the open containers' iterators, so each leaf costs one type check)."""
    open_: list[Iterator[Any]] = [iter((value,))]
    while open_:
        for item in open_[-1]:
            if isinstance(item, dict):
                item = item.values()
            elif not isinstance(item, list):
                continue
            if len(open_) > limit:
                return True
            open_.append(iter(item))
            break
        else:
            open_.pop()
    return False


def bounded_json(parse: Callable[[], Any]) -> Any:
    """The value `parse()` decodes; JSONTooDeep when it is nested too deeply (or recursed too far)."""
    try:
        value = parse()
    except RecursionError:
        raise JSONTooDeep from None
    if json_too_deep(value):
        raise JSONTooDeep
    return value


def loads(text: str | bytes) -> Any:
    """`json.loads` for client text: ValueError for text that is not JSON or is nested too deeply."""
    return bounded_json(lambda: json.loads(text))
