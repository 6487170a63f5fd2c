"""Token counting for history budgets: tiktoken's o200k_base, exact and offline.

tiktoken downloads its tables on first use, which an offline machine cannot do.
The o200k_base table ships with the code (`memory/encodings/o200k_base.tiktoken.gz`);
on first use it is unpacked into tiktoken's cache directory (`TIKTOKEN_CACHE_DIR`)
under the name tiktoken looks for, after its SHA-256 is checked against the hash
tiktoken itself expects, and tiktoken loads it from there (checking it again).

If that fails (a corrupt file, an unwritable cache directory), counting falls back
to an estimate of one token per three characters: the error is logged once and
`status()` reports the counter as degraded, which the health route shows.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

ENCODING = "o200k_base"
MESSAGE_OVERHEAD = 4  # role and separators per chat message
# tiktoken names a cached table by the SHA-1 of the address it downloads it from, and
# accepts it only when its SHA-256 is the one below (tiktoken_ext/openai_public.py).
SOURCE_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
VENDORED = Path(__file__).resolve().parent / "encodings" / "o200k_base.tiktoken.gz"


class EncodingUnavailable(Exception):
    """The vendored table could not be installed or loaded."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CounterStatus:
    exact: bool
    reason: str = ""


def install_table(*, vendored: Path, cache_dir: Path) -> Path:
    """Unpack the vendored table into `cache_dir` under tiktoken's name for it; its checksum
    is verified first. Returns the installed file."""
    target = cache_dir / hashlib.sha1(SOURCE_URL.encode(), usedforsecurity=False).hexdigest()
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == SHA256:
        return target
    try:
        data = gzip.decompress(vendored.read_bytes())
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise EncodingUnavailable(f"cannot read {vendored.name}: {type(error).__name__}") from error
    if hashlib.sha256(data).hexdigest() != SHA256:
        raise EncodingUnavailable(f"{vendored.name} does not match its SHA-256 checksum")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as error:
        raise EncodingUnavailable(
            f"cannot write tiktoken's cache directory: {type(error).__name__}"
        ) from error
    return target


def load_encoding(*, vendored: Path, cache_dir: Path) -> Any:
    """tiktoken's o200k_base, read from the vendored table (never from the network)."""
    install_table(vendored=vendored, cache_dir=cache_dir)
    import tiktoken

    # tiktoken reads its cache directory from the environment when it loads a table.
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    return tiktoken.get_encoding(ENCODING)


_lock = threading.Lock()
_state: tuple[Callable[[str], int], CounterStatus] | None = None


def _estimate(text: str) -> int:
    return math.ceil(len(text) / 3)


def _counter() -> tuple[Callable[[str], int], CounterStatus]:
    global _state
    if _state is not None:
        return _state
    with _lock:
        if _state is None:
            try:
                encoding = load_encoding(vendored=VENDORED, cache_dir=Path(settings.TIKTOKEN_CACHE_DIR))
            except Exception as error:  # any failure: count by estimate, say so once
                reason = str(error) if isinstance(error, EncodingUnavailable) else type(error).__name__
                logger.error("token counting degraded to an estimate (%s): %s", ENCODING, reason)
                _state = (_estimate, CounterStatus(exact=False, reason=reason))
            else:
                _state = (
                    lambda text: len(encoding.encode(text, disallowed_special=())),
                    CounterStatus(exact=True),
                )
        return _state


def reset() -> None:
    """Forget the loaded counter (tests, and after fixing the cache directory)."""
    global _state
    with _lock:
        _state = None


def status() -> CounterStatus:
    """Whether counting is exact, and why not when it is not."""
    return _counter()[1]


def count_text(text: str) -> int:
    return _counter()[0](text) if text else 0


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
