"""Embedders behind one small interface, chosen by `settings.EMBEDDER`.

"local": all-MiniLM-L6-v2 on the CPU (offline, 384 dimensions).
"provider/model": any OpenAI-compatible `/embeddings` endpoint of a provider in
`settings.MODEL_PROVIDERS`.
"""

from __future__ import annotations

import threading

from django.conf import settings

from memory.embedders.base import Embedder, EmbedderError

__all__ = ["Embedder", "EmbedderError", "embedder_get", "embedder_loaded", "embedder_warm_up"]

_lock = threading.Lock()
_cache: dict[str, Embedder] = {}


def embedder_get(name: str | None = None) -> Embedder:
    """The embedder named in settings (or `name`), built once per process."""
    name = name or settings.EMBEDDER
    with _lock:
        if name not in _cache:
            _cache[name] = _build(name)
        return _cache[name]


def embedder_loaded(name: str | None = None) -> bool:
    """Whether this process has built the embedder named in settings (or `name`)."""
    return (name or settings.EMBEDDER) in _cache


def _build(name: str) -> Embedder:
    if name == "local":
        from memory.embedders.local import LocalEmbedder

        return LocalEmbedder()
    from memory.embedders.openai_compat import OpenAICompatibleEmbedder

    return OpenAICompatibleEmbedder.from_settings(name)


def embedder_warm_up() -> None:
    """Load the configured embedder before its first use.

    Loading the local model takes seconds of CPU under the GIL; done inside a
    request it stalls every other coroutine of an ASGI process (WebSocket frames,
    the channel layer's Redis reads). The ASGI app and each Celery worker call this at
    start-up, in a thread of its own, so the server listens while the model loads.
    """
    embedder = embedder_get()
    warm_up = getattr(embedder, "warm_up", None)
    if warm_up is not None:
        warm_up()
