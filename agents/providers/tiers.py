"""The model catalogue: well-known model ids by capability tier and provider family.

Used when nothing names a model (the agent has none and `DEFAULT_MODEL` is empty, or a
name is `tier:<tier>`): the catalogue is walked and the first model a configured
provider actually lists is used. Within a tier the families are interleaved (Claude,
GPT, Gemini, then again), newest first, with open-weight models appended as the floor.

A listed id counts as a catalogue model when it equals the catalogue id or ends with it
after a deployment prefix (`databricks-claude-sonnet-4-6` is `claude-sonnet-4-6`),
compared case-insensitively with punctuation folded to dashes.
"""

from __future__ import annotations

import re
from enum import StrEnum
from functools import cache
from itertools import chain, zip_longest


class ModelTier(StrEnum):
    THINKING = "thinking"  # deepest reasoning
    BALANCED = "balanced"  # the cost and latency sweet spot
    FAST = "fast"  # cheap and quick: classification, routing, short summaries


TIER_PREFIX = "tier:"

# MODEL_CATALOG[tier][family]: newest or strongest first.
MODEL_CATALOG: dict[ModelTier, dict[str, tuple[str, ...]]] = {
    ModelTier.THINKING: {
        "claude": (
            "claude-opus-4-8",
            "claude-opus-4-7",
            "claude-opus-4-6",
            "claude-opus-4-5",
            "claude-opus-4-1",
        ),
        "gpt": ("gpt-5.5-pro", "o3", "o1"),
        "gemini": ("gemini-3.1-pro", "gemini-3-pro", "gemini-2.5-pro"),
        "open": ("llama-4-maverick", "gpt-oss-120b", "llama-3.1-405b-instruct"),
    },
    ModelTier.BALANCED: {
        "claude": ("claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4"),
        "gpt": ("gpt-5.5", "gpt-5.4", "gpt-5.2", "gpt-5.1", "gpt-5", "gpt-4.1", "gpt-4o"),
        "gemini": ("gemini-3.5-flash", "gemini-3-flash", "gemini-2.5-flash"),
        "open": ("llama-3.3-70b-instruct", "qwen3-next-80b", "qwen3.5-122b"),
    },
    ModelTier.FAST: {
        "claude": ("claude-haiku-4-5",),
        "gpt": ("gpt-5.4-mini", "gpt-5.4-nano", "gpt-5-mini", "gpt-5-nano", "gpt-4.1-mini", "gpt-4o-mini"),
        "gemini": ("gemini-3.1-flash-lite",),
        "open": ("gpt-oss-20b", "gemma-3-12b", "llama-3.1-8b-instruct"),
    },
}
_INTERLEAVED = ("claude", "gpt", "gemini")


def models_for_tier(tier: ModelTier | str) -> list[str]:
    """The tier's catalogue ids in priority order: families interleaved, open weights last."""
    families = MODEL_CATALOG[ModelTier(tier)]
    zipped = chain.from_iterable(zip_longest(*(families[f] for f in _INTERLEAVED)))
    return [m for m in zipped if m is not None] + list(families["open"])


def model_for_tier(tier: ModelTier | str) -> str:
    """The top catalogue id of a tier (resolved against what is deployed when a run uses it)."""
    return models_for_tier(tier)[0]


FALLBACK_MODEL_IDS: tuple[str, ...] = tuple(
    chain.from_iterable(models_for_tier(t) for t in (ModelTier.THINKING, ModelTier.BALANCED, ModelTier.FAST))
)


def parse_tier(name: str) -> ModelTier | None:
    """`tier:fast` -> ModelTier.FAST; anything else None. Raises ValueError for an unknown tier."""
    if not name.startswith(TIER_PREFIX):
        return None
    return ModelTier(name[len(TIER_PREFIX) :].strip().lower())


def _fold(model_id: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")


@cache
def _ranks() -> dict[str, tuple[int, ModelTier]]:
    ranks: dict[str, tuple[int, ModelTier]] = {}
    for tier in ModelTier:
        for model_id in models_for_tier(tier):
            ranks.setdefault(_fold(model_id), (len(ranks), tier))
    return ranks


def catalogue_entry(listed_id: str) -> tuple[int, ModelTier] | None:
    """(rank in the walk, tier) of a listed model that is a catalogue model, else None."""
    folded = _fold(listed_id)
    ranks = _ranks()
    if folded in ranks:
        return ranks[folded]
    parts = folded.split("-")
    for start in range(1, len(parts)):  # a deployment prefix: the longest catalogue suffix wins
        suffix = "-".join(parts[start:])
        if suffix in ranks:
            return ranks[suffix]
    return None


def tier_of(listed_id: str) -> ModelTier | None:
    entry = catalogue_entry(listed_id)
    return entry[1] if entry else None


def is_catalogue_id(listed_id: str, catalogue_id: str) -> bool:
    folded, wanted = _fold(listed_id), _fold(catalogue_id)
    return folded == wanted or folded.endswith(f"-{wanted}")
