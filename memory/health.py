"""Health checks of what memory owns: the embedder and the token counter (see core.health)."""

from __future__ import annotations

from core.health import ComponentHealth


def check_embedder() -> ComponentHealth:
    """Loading the model takes seconds, so the check never loads it: a failed recall marks the
    embedder degraded (`degradation_note`), and an embedder not built yet says so."""
    from memory.embedders import embedder_loaded

    if not embedder_loaded():
        return ComponentHealth(status="ok", reason="not loaded in this process yet")
    return ComponentHealth(status="ok")


def check_token_counter() -> ComponentHealth:
    from memory import tokens

    state = tokens.status()
    if state.exact:
        return ComponentHealth(status="ok")
    return ComponentHealth(status="degraded", reason=f"estimating tokens: {state.reason}")
