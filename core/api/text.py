"""Text that PostgreSQL and JSON cannot hold: NUL characters and lone UTF-16 surrogates.

PostgreSQL refuses NUL in text and jsonb, and a lone surrogate cannot be encoded
as UTF-8; either would otherwise fail deep inside a request as a server error.
Every client-supplied string is checked here first, so the client gets a 400
that names the field.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None."""
    found = _UNSAFE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "NUL characters (\\u0000) are not allowed."
    return "Unpaired surrogate characters are not allowed."


def text_without_unsafe(value: str) -> str:
    """`value` without NUL characters and lone surrogates (for text a program extracted, not a client's)."""
    return _UNSAFE.sub("", value)


def unsafe_text(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, problem) for every key or string value in a JSON-like value that cannot be stored."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield path or "body", problem
    elif isinstance(value, Mapping):
        for key, item in value.items():
            key_text = str(key)
            problem = text_problem(key_text)
            if problem:
                shown = key_text.encode("unicode_escape", "backslashreplace").decode("ascii")
                yield (f"{path}.{shown}" if path else shown), f"In a key: {problem}"
                continue
            yield from unsafe_text(item, f"{path}.{key_text}" if path else key_text)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from unsafe_text(item, f"{path}.{index}" if path else str(index))


def unsafe_text_details(value: Any, path: str = "") -> dict[str, list[str]]:
    """Field errors for the error shape's `details` (at most a few, so a huge body stays a small answer)."""
    details: dict[str, list[str]] = {}
    for field, problem in unsafe_text(value, path):
        details.setdefault(field, []).append(problem)
        if len(details) >= 20:
            break
    return details
