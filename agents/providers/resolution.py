"""Which deployed model a name means: exact ids, fuzzy word tokens, or the tier catalogue.

A name is `provider/model`. It is matched against the provider's live model list
(`catalog.provider_models`, cached): an exact id wins; otherwise every word token of
the name must match a token of a listed id (equal, a prefix of it, or within
`MODEL_FUZZY_THRESHOLD` by rapidfuzz's ratio), and the best scoring id is used, so
`claude sonnet` means the deployed `claude-sonnet-4-6`. Ties go to the catalogue's
order (newest first), then to the id with fewer extra words. No match keeps the name
as given, with the closest ids attached so that the provider's 404 can name them.

An empty name (no agent model, no `DEFAULT_MODEL`) walks the whole catalogue and
`tier:<tier>` walks one tier (`agents.providers.tiers`): the first catalogue model a
configured provider lists is used; a tier with nothing deployed falls back to the rest of
the catalogue, and a deployment that lists none of the catalogue to the first model it
lists (to the chain's fallbacks, where it has some). In a fallback list, `tier:<tier>`
stands for every deployed model of that tier, in order.

Resolved chains are cached until a listing they used is refetched, so a run
resolves with a dictionary lookup, not a network call.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace

from django.conf import settings
from rapidfuzz import fuzz, process

from agents.providers import catalog
from agents.providers.config import ModelRef, UnknownProvider, resolve
from agents.providers.tiers import (
    FALLBACK_MODEL_IDS,
    catalogue_entry,
    is_catalogue_id,
    models_for_tier,
    parse_tier,
)

_SHOWN_CANDIDATES = 5


def _tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", text.lower()) if t]


def _token_score(query: str, tokens: Sequence[str], threshold: float) -> float:
    """How well one word of the name matches the best word of a listed id (0 to 100)."""
    best = 0.0
    for token in tokens:
        if token == query:
            return 100.0
        if any(c.isdigit() for c in query):  # versions and sizes match exactly ("4" is not "4o")
            continue
        if len(query) >= 2 and token.startswith(query):
            best = max(best, 95.0)
        else:
            best = max(best, fuzz.ratio(query, token, score_cutoff=threshold))
    return best


def fuzzy_match(name: str, listed: Sequence[str], *, threshold: float | None = None) -> str | None:
    """The listed id that every word token of `name` matches, best first; None if none does."""
    cutoff = float(settings.MODEL_FUZZY_THRESHOLD if threshold is None else threshold)
    wanted = _tokens(name)
    if not wanted:
        return None
    ranked: list[tuple[float, int, int, str]] = []
    for candidate in listed:
        tokens = _tokens(candidate)
        scores = [_token_score(q, tokens, cutoff) for q in wanted]
        if min(scores) < cutoff:
            continue
        entry = catalogue_entry(candidate)
        rank = entry[0] if entry else len(FALLBACK_MODEL_IDS)
        extra = len(tokens) - len(wanted)
        ranked.append((-sum(scores) / len(scores), rank, extra, candidate))
    return min(ranked)[3] if ranked else None


def closest(name: str, listed: Sequence[str], limit: int = _SHOWN_CANDIDATES) -> tuple[str, ...]:
    """The listed ids nearest to `name` (for the error when nothing matched)."""
    found = process.extract(name.lower(), list(listed), scorer=fuzz.token_set_ratio, limit=limit)
    return tuple(match for match, _score, _index in found)


class _Resolver:
    """Resolves the names of one chain, noting which providers' listings it read."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def listing(self, provider: str) -> list[str]:
        self.read.add(provider)
        models, _error = catalog.provider_models(resolve(f"{provider}/_"))
        return models

    def named(self, name: str) -> ModelRef:
        ref = resolve(name)
        listed = self.listing(ref.provider)
        if not listed or ref.name in listed:
            return ref  # exact, or a provider that lists nothing: the name as given
        folded = {m.lower(): m for m in listed}
        if ref.name.lower() in folded:
            return replace(ref, name=folded[ref.name.lower()], requested=name)
        match = fuzzy_match(ref.name, listed)
        if match is not None:
            return replace(ref, name=match, requested=name)
        return replace(ref, requested=name, candidates=closest(ref.name, listed))

    def present(self, catalogue_ids: Iterable[str]) -> list[ModelRef]:
        """Deployed models of the catalogue, in the catalogue's order, across providers."""
        listings = {p: self.listing(p) for p in settings.MODEL_PROVIDERS}
        found: list[ModelRef] = []
        for wanted in catalogue_ids:
            for provider, listed in listings.items():
                found += [resolve(f"{provider}/{m}") for m in listed if is_catalogue_id(m, wanted)]
        return list({ref.id: ref for ref in found}.values())

    def walked(self, catalogue_ids: Sequence[str], requested: str, *, alone: bool) -> ModelRef:
        """The first deployed model of `catalogue_ids`; else of the whole catalogue (a tier with
        nothing deployed); else, for a name with no fallbacks after it (`alone`), the first model
        a provider lists (a deployment of ids the catalogue does not know, such as a local
        server's); else the catalogue's top id, and the provider's own error (a chain goes on
        to its fallbacks)."""
        present = self.present(catalogue_ids) or self.present(FALLBACK_MODEL_IDS)
        if present:
            return replace(present[0], requested=requested)
        if alone:
            for provider in settings.MODEL_PROVIDERS:
                listed = self.listing(provider)
                if listed:
                    return replace(resolve(f"{provider}/{listed[0]}"), requested=requested)
        provider = next(iter(settings.MODEL_PROVIDERS))
        return replace(resolve(f"{provider}/{catalogue_ids[0]}"), requested=requested)

    def primary(self, name: str, *, alone: bool) -> ModelRef:
        if not name:
            return self.walked(FALLBACK_MODEL_IDS, "", alone=alone)
        tier = _tier(name)
        return self.walked(models_for_tier(tier), name, alone=alone) if tier else self.named(name)

    def fallbacks(self, name: str) -> list[ModelRef]:
        tier = _tier(name)
        return self.present(models_for_tier(tier)) if tier else [self.named(name)]


def _tier(name: str) -> str | None:
    try:
        return parse_tier(name)
    except ValueError as error:
        raise UnknownProvider(
            f"Unknown model tier in {name!r}: use tier:thinking, tier:balanced or tier:fast.",
            details={"model": [name]},
        ) from error


_resolved: dict[tuple[str, ...], tuple[int, float, list[ModelRef]]] = {}
_resolved_lock = threading.Lock()


def chain_resolve(primary: str, fallbacks: Sequence[str] = ()) -> list[ModelRef]:
    """The models a run tries, in order: the primary name resolved, then each fallback."""
    key = (primary, *fallbacks)
    cached = _resolved.get(key)
    if cached is not None and cached[0] == catalog.generation() and cached[1] > time.monotonic():
        return cached[2]
    generation = catalog.generation()
    resolver = _Resolver()
    refs = [resolver.primary(primary, alone=not fallbacks)]
    for name in fallbacks:
        refs += resolver.fallbacks(name)
    chain = list({ref.id: ref for ref in refs}.values())
    expires = min((catalog.listing_expires(p) for p in resolver.read), default=0.0)
    with _resolved_lock:
        if len(_resolved) > 4096:  # names come from configuration and clients: keep it bounded
            _resolved.clear()
        _resolved[key] = (generation, expires, chain)
    return chain


def model_resolve(name: str) -> ModelRef:
    """One name resolved (a fallback-free chain)."""
    return chain_resolve(name)[0]


def configured_ids(names: Iterable[str]) -> list[str]:
    """The deployed ids that configured names (agents' models and fallbacks, the default)
    resolve to; tier names are not models and are left out, unknown providers kept as given."""
    ids: list[str] = []
    for name in names:
        if not name or name.startswith("tier:"):
            continue
        try:
            ids.append(model_resolve(name).id)
        except UnknownProvider:
            ids.append(name)
    return list(dict.fromkeys(ids))


async def chain_warm(primary: str, fallbacks: Sequence[str] = ()) -> None:
    """Fetch (without blocking the event loop) the listings `chain_resolve` will read."""
    cached = _resolved.get((primary, *fallbacks))
    if cached is not None and cached[0] == catalog.generation() and cached[1] > time.monotonic():
        return
    providers: set[str] = set()
    for name in (primary, *fallbacks):
        if not name or name.startswith("tier:"):
            providers.update(settings.MODEL_PROVIDERS)
        else:
            provider = name.partition("/")[0] if "/" in name else "openai"
            if provider in settings.MODEL_PROVIDERS:
                providers.add(provider)
    await asyncio.gather(*(catalog.provider_models_async(resolve(f"{p}/_")) for p in sorted(providers)))
