"""Merging text deltas into fewer frames without delaying the first one.

A provider streams one token at a time; sending each as its own WebSocket
frame costs a channel-layer hop and a socket write per token. The coalescer
sends the first delta of a burst at once (the first token is what a reader
waits for) and merges the deltas that follow within `window_s` into one chunk
of the same shape, flushed by a timer or by the next chunk of another kind.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Chunk = dict[str, Any]
_DELTAS = frozenset({"text-delta", "reasoning-delta"})


class Coalescer:
    def __init__(self, *, emit: Callable[[Chunk], None], window_s: float) -> None:
        self._emit = emit
        self._window_s = window_s
        self._kind: str | None = None
        self._id: str | None = None
        self._parts: list[str] = []
        self._last_emit = -1e9
        self._timer: asyncio.TimerHandle | None = None
        self._loop = asyncio.get_running_loop()

    def push(self, chunk: Chunk) -> bool:
        """Take one chunk; True when something was emitted (the caller may yield to the loop)."""
        kind = chunk.get("type")
        if kind not in _DELTAS or self._window_s <= 0:
            self.flush()
            self._emit(chunk)
            return True
        now = self._loop.time()
        if self._parts and kind == self._kind and chunk.get("id") == self._id:
            self._parts.append(chunk["delta"])
            # A busy loop may not run the timer in time: flush on the clock as well.
            if now - self._last_emit >= self._window_s:
                self.flush()
                return True
            return False
        emitted = self.flush()
        if now - self._last_emit >= self._window_s:
            self._last_emit = now
            self._emit(chunk)
            return True
        self._kind, self._id, self._parts = kind, chunk.get("id"), [chunk["delta"]]
        self._timer = self._loop.call_at(self._last_emit + self._window_s, self.flush)
        return emitted

    def flush(self) -> bool:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._parts:
            return False
        chunk = {"type": self._kind, "id": self._id, "delta": "".join(self._parts)}
        self._parts = []
        self._last_emit = self._loop.time()
        self._emit(chunk)
        return True
