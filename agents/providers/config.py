"""Provider configuration from settings: `provider/model` -> endpoint and key variable."""

from __future__ import annotations

import os
from dataclasses import dataclass

from django.conf import settings

from core.errors import PlatformError, ValidationFailed


class UnknownProvider(ValidationFailed):
    code = "unknown_provider"


class ProviderNotConfigured(PlatformError):
    code = "provider_not_configured"
    status = 503


@dataclass(frozen=True, slots=True)
class ModelRef:
    provider: str
    name: str
    base_url: str
    api_key_env: str
    requested: str = ""  # the name it was resolved from, when that differs (`agents.providers.resolution`)
    candidates: tuple[str, ...] = ()  # the provider's closest ids, when nothing matched the name

    @property
    def id(self) -> str:
        return f"{self.provider}/{self.name}"

    def api_key(self) -> str:
        """The key, read from its variable at call time; local servers may need none."""
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            return key
        if self.provider == "openai" and "api.openai.com" in self.base_url:
            raise ProviderNotConfigured(
                f"No API key for provider 'openai': set the environment variable {self.api_key_env} "
                "(or OPENAI_BASE_URL for another OpenAI-compatible server).",
                details={"variable": self.api_key_env, "provider": self.provider},
            )
        return "not-needed"


def resolve(model: str) -> ModelRef:
    """Parse `provider/model`; a bare name uses the `openai` provider."""
    provider, sep, name = model.partition("/")
    if not sep:
        provider, name = "openai", model
    if not name:
        raise UnknownProvider(f"Model {model!r} must look like provider/model.", details={"model": [model]})
    providers: dict[str, dict[str, str]] = settings.MODEL_PROVIDERS
    config = providers.get(provider)
    if config is None:
        raise UnknownProvider(
            f"Unknown model provider {provider!r}; configured: {', '.join(sorted(providers))}. "
            "Add it to MODEL_PROVIDERS as name=base_url|KEY_VARIABLE.",
            details={"model": [f"unknown provider {provider!r}"]},
        )
    return ModelRef(
        provider=provider, name=name, base_url=config["base_url"], api_key_env=config.get("api_key_env", "")
    )
