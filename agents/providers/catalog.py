"""The models a client may choose: configured ones and what each provider's `/models` reports.

Listings are cached per provider; concurrent callers wait for the one fetch in
flight instead of each asking the provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.conf import settings

from agents.providers import openai_client
from agents.providers.config import ModelRef, ProviderNotConfigured, resolve
from core.errors import ValidationFailed
from observability.redaction import scrub_text

_FAILURE_TTL_S = 15.0


@dataclass
class _Entry:
    lock: threading.Lock = field(default_factory=threading.Lock)
    models: list[str] = field(default_factory=list)
    error: str = ""
    expires: float = 0.0
    fetches: int = 0


_cache: dict[str, _Entry] = {}
_cache_lock = threading.Lock()


def _entry(provider: str) -> _Entry:
    with _cache_lock:
        return _cache.setdefault(provider, _Entry())


def provider_models(ref: ModelRef) -> tuple[list[str], str]:
    """(model names, error) for one provider, from cache or one shared fetch."""
    entry = _entry(ref.provider)
    with entry.lock:  # callers arriving during a fetch wait here, then read the fresh cache
        if entry.expires > time.monotonic():
            return entry.models, entry.error
        entry.fetches += 1
        try:
            entry.models, entry.error = openai_client.list_models_sync(ref), ""
            entry.expires = time.monotonic() + settings.MODELS_LIST_CACHE_S
        except (ProviderNotConfigured, *openai_client.ProviderError) as error:
            message = getattr(error, "message", None) or str(error)
            entry.models, entry.error = [], scrub_text(str(message))[:300]
            entry.expires = time.monotonic() + _FAILURE_TTL_S
        return entry.models, entry.error


def cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def fetch_count(provider: str) -> int:
    return _entry(provider).fetches


class UnknownModel(ValidationFailed):
    code = "unknown_model"


_SHOWN = 40


def model_check(model: str, *, configured: Sequence[str]) -> None:
    """A model a client chose must be `provider/model` of a configured provider, and a model that
    provider lists (its `/models`) or one configured here; otherwise a 400 listing what exists."""
    provider, sep, name = model.partition("/")
    providers: dict[str, dict[str, str]] = settings.MODEL_PROVIDERS
    if model in configured:
        return
    if not sep or not name or provider not in providers:
        available = sorted(set(configured))
        reason = (
            f"Model {model!r} must be provider/model with a configured provider "
            f"({', '.join(sorted(providers))})."
        )
    else:
        listed, error = provider_models(resolve(model))
        if name in listed:
            return
        available = sorted({*configured, *(f"{provider}/{m}" for m in listed)})
        reason = f"Provider {provider!r} has no model {name!r}" + (
            f" (its model list is unavailable: {error})." if error else "."
        )
    shown = ", ".join(available[:_SHOWN]) + (" …" if len(available) > _SHOWN else "")
    raise UnknownModel(
        f"{reason} Available: {shown or 'none'}. GET /api/models lists them.",
        details={"model": [reason], "available": available[:200]},
    )


def models_catalog(*, configured: list[str]) -> dict[str, object]:
    """Configured models first, then each provider's discovered models."""
    models: dict[str, dict[str, object]] = {}
    for name in configured:
        provider = name.partition("/")[0]
        models[name] = {"id": name, "provider": provider, "configured": True, "discovered": False}
    providers = []
    configs = list(settings.MODEL_PROVIDERS.items())
    with ThreadPoolExecutor(max_workers=max(1, len(configs))) as pool:
        listings = list(pool.map(lambda item: provider_models(resolve(f"{item[0]}/_")), configs))
    for (name, config), (found, error) in zip(configs, listings, strict=True):
        providers.append(
            {"name": name, "baseUrl": config["base_url"], "error": error or None, "count": len(found)}
        )
        for model in found:
            key = f"{name}/{model}"
            entry = models.setdefault(
                key, {"id": key, "provider": name, "configured": False, "discovered": True}
            )
            entry["discovered"] = True
    return {"models": list(models.values()), "providers": providers}
