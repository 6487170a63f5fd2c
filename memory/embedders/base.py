"""The embedder interface."""

from __future__ import annotations

from typing import Protocol

from core.errors import UpstreamError


class EmbedderError(UpstreamError):
    code = "embedder_error"
    default_message = "The embedder failed."


class Embedder(Protocol):
    """Turns texts into vectors. `name` is recorded beside every vector it makes."""

    name: str

    @property
    def dimensions(self) -> int: ...

    def embed(self, texts: list[str]) -> list[list[float]]: ...
