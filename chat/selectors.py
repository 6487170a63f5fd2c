"""Chat selectors: what the chat page needs to know before the first message."""

from __future__ import annotations

import os

from django.conf import settings


def provider_setup_hint() -> str | None:
    """Which variable to set when the default model's provider has no key; None when it has one."""
    model: str = getattr(settings, "DEFAULT_MODEL", "")
    provider_name = model.partition("/")[0]
    provider = getattr(settings, "MODEL_PROVIDERS", {}).get(provider_name)
    if provider is None:
        return f"The default model '{model}' names no configured provider: set DEFAULT_MODEL or MODEL_PROVIDERS."
    key_var = provider.get("api_key_env")
    if key_var and not os.environ.get(key_var):
        return f"No model provider is configured: set {key_var} (the default model is {model})."
    return None
