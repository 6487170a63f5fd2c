"""Token counting for history budgets (tiktoken).

tiktoken fetches its BPE tables from the network on first use and caches them
(`TIKTOKEN_CACHE_DIR`). Where they cannot be had (an offline machine with an
empty cache) counting falls back to a conservative estimate of one token per
three characters, logged once, so the limiter still keeps the prompt in budget.
"""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

ENCODING = "o200k_base"
MESSAGE_OVERHEAD = 4  # role and separators per chat message


@functools.cache
def _encoder() -> Callable[[str], int]:
    try:
        import tiktoken

        encoding = tiktoken.get_encoding(ENCODING)
    except Exception as exc:  # network or cache failure: estimate instead
        logger.warning(
            "tiktoken encoding %s unavailable (%s); estimating tokens", ENCODING, type(exc).__name__
        )
        return lambda text: math.ceil(len(text) / 3)
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def count_text(text: str) -> int:
    return _encoder()(text) if text else 0


def count_message(message: dict[str, Any]) -> int:
    """Tokens of one OpenAI chat-format message, tool calls included."""
    total = MESSAGE_OVERHEAD + count_text(str(message.get("content") or ""))
    for call in message.get("tool_calls") or []:
        function = call.get("function", {})
        total += count_text(function.get("name", "")) + count_text(function.get("arguments", ""))
    return total


def count_parts(parts: list[dict[str, Any]]) -> int:
    """Tokens of a stored message's parts (text, and tool inputs and outputs as JSON)."""
    total = 0
    for part in parts:
        kind = part.get("type")
        if kind in ("text", "reasoning"):
            total += count_text(str(part.get("text", "")))
        elif kind == "tool-call":
            total += count_text(json.dumps(part.get("input"), default=str))
        elif kind == "tool-result":
            total += count_text(json.dumps(part.get("output"), default=str))
    return total
