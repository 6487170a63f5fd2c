"""Redaction of secrets before anything is stored, exported or logged.

Three rules: values under keys named like secrets (secret, token, password,
api_key, authorization, credential, ...) are replaced; any occurrence of a
known secret value (configured secret variables, provider keys, credentials
registered at run time with `register_secret`) is replaced inside strings;
objects that declare themselves credentials (`__redact__ = True`) are replaced.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"
# Key names whose values are secrets. "token" counts only as a whole word, so
# usage counters such as `input_tokens` stay readable.
_SECRET_SUBSTRING = re.compile(
    r"secret|passw(or)?d|api[_-]?key|authorization|credential|private[_-]?key|cookie", re.IGNORECASE
)
_WORD_BOUNDARY = re.compile(r"[_\-\s.]+|(?<=[a-z0-9])(?=[A-Z])")
_MIN_SECRET_LEN = 6
_lock = threading.Lock()
_registered: set[str] = set()
_version = 0


def register_secret(value: str | None) -> None:
    """Scrub `value` from every later trace, message and log line of this process."""
    global _version
    if not value or len(value) < _MIN_SECRET_LEN:
        return
    with _lock:
        if value not in _registered:
            _registered.add(value)
            _version += 1


def _configured_secrets() -> Iterable[str]:
    from django.conf import settings

    names = set(getattr(settings, "SECRET_ENV_VARS", []))
    for provider in getattr(settings, "MODEL_PROVIDERS", {}).values():
        if provider.get("api_key_env"):
            names.add(provider["api_key_env"])
    for name in names:
        yield os.environ.get(name, "")
    for attr in ("S3_SECRET_ACCESS_KEY", "WEBHOOK_SIGNING_SECRET", "SECRET_KEY"):
        yield str(getattr(settings, attr, "") or "")


def _pattern(version: int) -> re.Pattern[str] | None:
    """The pattern of every secret known now: configured values are re-read on each call
    (a provider or key configured later is covered too); compiling is cached."""
    configured = frozenset(v for v in _configured_secrets() if v and len(v) >= _MIN_SECRET_LEN)
    return _compile(configured, version)


@lru_cache(maxsize=16)
def _compile(configured: frozenset[str], version: int) -> re.Pattern[str] | None:
    values = configured | {v for v in _registered if len(v) >= _MIN_SECRET_LEN}
    if not values:
        return None
    return re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))


def scrub_text(text: str) -> str:
    """Replace every known secret value inside `text`."""
    pattern = _pattern(_version)
    return pattern.sub(REDACTED, text) if pattern is not None else text


@lru_cache(maxsize=1024)
def is_secret_key(key: str) -> bool:
    if _SECRET_SUBSTRING.search(key):
        return True
    return "token" in (word.lower() for word in _WORD_BOUNDARY.split(key))


class Redactor:
    """Redaction with the secrets known at creation, for redacting many values at once (a trace)."""

    __slots__ = ("pattern",)

    def __init__(self) -> None:
        self.pattern = _pattern(_version)

    def __call__(self, value: Any) -> Any:
        return _redact(value, self.pattern)

    def text(self, text: str) -> str:
        return self.pattern.sub(REDACTED, text) if self.pattern is not None else text


def redact(value: Any) -> Any:
    """Return a copy of `value` (JSON-like) with secrets removed."""
    pattern = _pattern(_version)
    return _redact(value, pattern)


def _redact(value: Any, pattern: re.Pattern[str] | None) -> Any:
    if isinstance(value, str):
        return pattern.sub(REDACTED, value) if pattern is not None else value
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and is_secret_key(k) and v not in (None, "")
                else _redact(v, pattern)
            )
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_redact(v, pattern) for v in value]
    if getattr(value, "__redact__", False):
        return REDACTED
    if value is None or isinstance(value, bool | int | float):
        return value
    return _redact(str(value), pattern)
