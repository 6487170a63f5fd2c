"""Re-embed every message and knowledge chunk with the embedder now configured."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from memory.embedders import embedder_get
from memory.services import reembed_all


class Command(BaseCommand):
    help = "Re-embed messages and knowledge chunks whose vectors came from another embedder (after changing EMBEDDER)."

    def handle(self, *args: Any, **options: Any) -> None:
        embedder = embedder_get()
        self.stdout.write(f"Embedding with {embedder.name} ({embedder.dimensions} dimensions)…")
        counts = reembed_all()
        self.stdout.write(
            self.style.SUCCESS(f"Re-embedded {counts['messages']} messages and {counts['chunks']} chunks.")
        )
