"""What each provider lists (its `/models`), cached per provider, and the catalogue `GET /api/models` shows.

A listing is kept for `MODELS_LIST_CACHE_S` (a failed one for 15 s). Concurrent
callers, threads and coroutines alike, share the one fetch in flight instead of
each asking the provider: the first caller starts it, the others wait for its result.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from agents.providers import openai_client
from agents.providers.config import ModelRef, ProviderNotConfigured, resolve
from agents.providers.tiers import catalogue_entry
from observability.redaction import scrub_text

_FAILURE_TTL_S = 15.0
Listing = tuple[list[str], str]  # (model names, error)


@dataclass
class _Entry:
    models: list[str] = field(default_factory=list)
    error: str = ""
    expires: float = 0.0
    fetches: int = 0
    in_flight: Future[Listing] | None = None


_cache: dict[str, _Entry] = {}
_lock = threading.Lock()
# Bumped by every fetch and by `cache_clear`: what was resolved from older listings is stale.
_generation = [0]


def generation() -> int:
    return _generation[0]


def _claim(provider: str) -> tuple[Listing | None, Future[Listing], bool]:
    """(the fresh listing, or None with the fetch to wait for, and whether this caller runs it)."""
    with _lock:
        entry = _cache.setdefault(provider, _Entry())
        if entry.expires > time.monotonic():
            return (entry.models, entry.error), Future(), False
        if entry.in_flight is not None:
            return None, entry.in_flight, False
        entry.in_flight = Future()
        entry.fetches += 1
        return None, entry.in_flight, True


def _fetch(ref: ModelRef, future: Future[Listing]) -> None:
    """Ask the provider once, store the answer and hand it to every caller waiting on `future`."""
    try:
        listing: Listing = (openai_client.list_models_sync(ref), "")
        ttl = float(settings.MODELS_LIST_CACHE_S)
    except (ProviderNotConfigured, *openai_client.ProviderError) as error:
        message = getattr(error, "message", None) or str(error)
        listing, ttl = ([], scrub_text(str(message))[:300]), _FAILURE_TTL_S
    except BaseException as error:  # anything else: the waiters get it too, nothing is cached
        with _lock:
            _cache.setdefault(ref.provider, _Entry()).in_flight = None
        future.set_exception(error)
        return
    with _lock:
        entry = _cache.setdefault(ref.provider, _Entry())
        entry.models, entry.error = listing
        entry.expires = time.monotonic() + ttl
        entry.in_flight = None
        _generation[0] += 1
    future.set_result(listing)


def provider_models(ref: ModelRef) -> Listing:
    """(model names, error) for one provider, from the cache or the one shared fetch."""
    fresh, future, mine = _claim(ref.provider)
    if fresh is not None:
        return fresh
    if mine:
        _fetch(ref, future)
    return future.result()


async def provider_models_async(ref: ModelRef) -> Listing:
    """`provider_models` for a coroutine: the fetch runs in a thread, the event loop stays free."""
    fresh, future, mine = _claim(ref.provider)
    if fresh is not None:
        return fresh
    if mine:
        threading.Thread(target=_fetch, args=(ref, future), daemon=True, name="models-list").start()
    # shield: a cancelled caller stops waiting without cancelling the fetch the others wait on
    return await asyncio.shield(asyncio.wrap_future(future))


def listing_expires(provider: str) -> float:
    """When the provider's cached listing goes stale (0.0: none cached)."""
    entry = _cache.get(provider)
    return entry.expires if entry is not None else 0.0


def cache_clear() -> None:
    with _lock:
        _cache.clear()
        _generation[0] += 1


def fetch_count(provider: str) -> int:
    entry = _cache.get(provider)
    return entry.fetches if entry is not None else 0


def provider_listings() -> dict[str, Listing]:
    """Every configured provider's listing, fetched side by side where not cached."""
    names = list(settings.MODEL_PROVIDERS)
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        listings = list(pool.map(lambda name: provider_models(resolve(f"{name}/_")), names))
    return dict(zip(names, listings, strict=True))


def models_catalog(*, configured: list[str]) -> dict[str, object]:
    """Configured models first, then each provider's discovered models, each with its tier
    (`thinking`, `balanced`, `fast`, or null for a model outside the catalogue)."""
    models: dict[str, dict[str, object]] = {}
    for name in configured:
        provider, _, model = name.partition("/")
        models[name] = {
            "id": name,
            "provider": provider,
            "configured": True,
            "discovered": False,
            "tier": _tier(model),
        }
    providers = []
    for name, (found, error) in provider_listings().items():
        providers.append(
            {
                "name": name,
                "baseUrl": settings.MODEL_PROVIDERS[name]["base_url"],
                "error": error or None,
                "count": len(found),
            }
        )
        for model in found:
            key = f"{name}/{model}"
            entry = models.setdefault(
                key,
                {"id": key, "provider": name, "configured": False, "discovered": True, "tier": _tier(model)},
            )
            entry["discovered"] = True
    return {"models": list(models.values()), "providers": providers}


def _tier(model: str) -> str | None:
    entry = catalogue_entry(model)
    return str(entry[1]) if entry else None
