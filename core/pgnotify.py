"""An in-process cache that PostgreSQL empties: `LISTEN channel`, clear on every `NOTIFY`.

Configuration that every request reads and operators rarely change (an agent's
prompt, allowlist and switches) is cached per process and dropped the moment a
database trigger announces a change, in this process or any other. The cache
serves only while its listening connection is up: before the first `LISTEN`
succeeds, after the connection drops, or where `LISTEN` is not available (a
pooler in transaction mode), every lookup misses and reads the database, so a
lost notification can never leave a stale value in use.

    specs: NotifiedCache[str, Spec] = NotifiedCache("agent_config")
    generation = specs.generation()
    spec = specs.get(key)
    if spec is None:
        spec = load(key)                       # read after taking the generation...
        specs.put(key, spec, generation)       # ...so a change in between is not cached

Changes committed by this process also call `clear()` directly (signals), so
the process that made a change never waits for its own notification.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from typing import Any, Generic, TypeVar

from core.db import connect

logger = logging.getLogger(__name__)

# Payload prefix of the notifications `sync()` sends itself: heard, they empty nothing.
_SYNC = "sync:"

K = TypeVar("K")
V = TypeVar("V")


class NotifiedCache(Generic[K, V]):
    def __init__(self, channel: str, *, using: str = "default", max_entries: int = 4096) -> None:
        self.channel = channel
        self.using = using
        self.max_entries = max_entries
        self._entries: dict[K, V] = {}
        self._generation = 0
        self._listening = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._stop = threading.Event()
        self._heard = threading.Condition()
        self._sync_tokens: set[str] = set()

    # -- lookups ----------------------------------------------------------------

    def generation(self) -> int:
        """Take before reading the database; pass to `put`."""
        return self._generation

    def get(self, key: K) -> V | None:
        self.start()
        if not self._listening:
            return None
        return self._entries.get(key)

    def put(self, key: K, value: V, generation: int) -> None:
        """Cache `value` unless a change was announced since `generation` was taken."""
        with self._lock:
            if not self._listening or generation != self._generation:
                return
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = value

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    @property
    def listening(self) -> bool:
        return self._listening

    # -- the listener -----------------------------------------------------------

    def start(self) -> None:
        """Start listening in this process, if not already (lookups call it)."""
        pid = os.getpid()
        if self._pid == pid and self._thread is not None:
            return
        with self._lock:
            if self._pid == pid and self._thread is not None:
                return
            # A forked child (a Celery worker) inherits no running thread: start its own.
            self._pid, self._listening, self._entries = pid, False, {}
            self._stop.clear()
            self._thread = threading.Thread(target=self._listen, name=f"listen-{self.channel}", daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                with connect(self.using, autocommit=True) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    self.clear()  # anything cached before the LISTEN may have been missed
                    self._listening = True
                    delay = 0.5
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            if note.payload.startswith(_SYNC):
                                self._sync_heard(note.payload)
                            else:
                                self.clear()
            except Exception as error:
                if not self._stop.is_set():
                    logger.warning(
                        "cache %s stopped listening (%s); retrying", self.channel, type(error).__name__
                    )
            finally:
                self._listening = False
                self.clear()
            self._stop.wait(delay)
            delay = min(delay * 2, 30.0)

    def _sync_heard(self, payload: str) -> None:
        with self._heard:
            self._sync_tokens.add(payload)
            self._heard.notify_all()

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until this process has heard every change committed before the call.

        PostgreSQL delivers notifications in commit order: once the listener hears one
        sent now, every earlier change has emptied the cache. False when not listening
        or not heard within `timeout` (tests use it instead of waiting for a while).
        """
        if not self._listening:
            return False
        payload = f"{_SYNC}{uuid.uuid4().hex}"
        with connect(self.using, autocommit=True) as conn:
            conn.execute("SELECT pg_notify(%s, %s)", [self.channel, payload])
        with self._heard:
            heard = self._heard.wait_for(lambda: payload in self._sync_tokens, timeout)
            self._sync_tokens.discard(payload)
        return heard

    def stop(self) -> None:
        """Stop listening and close the connection (tests; a process exiting does it anyway)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self._pid = 0
        self._listening = False
        self.clear()


def wait_listening(cache: NotifiedCache[Any, Any], timeout: float = 5.0) -> bool:
    """Start the listener if needed and wait until it listens (tests, warm-up)."""
    cache.start()
    deadline = time.monotonic() + timeout
    while not cache.listening and time.monotonic() < deadline:
        time.sleep(0.01)
    return cache.listening
