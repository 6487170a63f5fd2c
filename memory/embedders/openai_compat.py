"""Any OpenAI-compatible `/embeddings` endpoint, through the `openai` SDK."""

from __future__ import annotations

import os

import openai
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from memory.embedders.base import EmbedderError


class OpenAICompatibleEmbedder:
    def __init__(self, *, name: str, model: str, base_url: str, api_key: str, dimensions: int) -> None:
        self.name = name
        self._model = model
        self._dimensions = dimensions
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, timeout=settings.MODEL_REQUEST_TIMEOUT_S, max_retries=1
        )

    @classmethod
    def from_settings(cls, name: str) -> OpenAICompatibleEmbedder:
        provider, _, model = name.partition("/")
        config = settings.MODEL_PROVIDERS.get(provider)
        if not model or config is None:
            raise ImproperlyConfigured(
                f"EMBEDDER={name!r}: expected 'local' or 'provider/model' with a provider in MODEL_PROVIDERS."
            )
        key_var = config.get("api_key_env", "")
        api_key = os.environ.get(key_var, "") if key_var else ""
        if key_var and not api_key:
            raise ImproperlyConfigured(f"Missing environment variable {key_var} for embedder {name!r}.")
        return cls(
            name=name,
            model=model,
            base_url=config["base_url"],
            api_key=api_key or "unused",
            dimensions=settings.EMBEDDING_DIMENSIONS,
        )

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            response = self._client.embeddings.create(model=self._model, input=texts)
        except openai.OpenAIError as exc:
            raise EmbedderError(f"embeddings request failed: {type(exc).__name__}") from exc
        vectors = [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        if any(len(v) != self._dimensions for v in vectors):
            raise EmbedderError(
                f"embedder {self.name!r} returned vectors of another dimension than EMBEDDING_DIMENSIONS="
                f"{self._dimensions}"
            )
        return vectors
