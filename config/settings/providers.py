"""Model providers and the embedder.

A model is named `provider/model`. The `openai` provider reads `OPENAI_API_KEY`
and `OPENAI_BASE_URL`. Extra providers are declared in `MODEL_PROVIDERS` as
`name=base_url|KEY_VARIABLE` pairs separated by commas, for example
`MODEL_PROVIDERS=ollama=http://localhost:11434/v1|OLLAMA_API_KEY`.
Keys are read from the named variable at call time and never stored.
"""

from __future__ import annotations

from config.env import BASE_DIR, env


def _parse_providers(raw: str) -> dict[str, dict[str, str]]:
    providers: dict[str, dict[str, str]] = {
        "openai": {
            "base_url": env.str("OPENAI_BASE_URL", default="https://api.openai.com/v1"),
            "api_key_env": "OPENAI_API_KEY",
        }
    }
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, rest = item.partition("=")
        base_url, _, key_var = rest.partition("|")
        if not name or not base_url:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(
                f"MODEL_PROVIDERS entry {item!r} must look like name=base_url|KEY_VARIABLE."
            )
        providers[name.strip()] = {"base_url": base_url.strip(), "api_key_env": key_var.strip()}
    return providers


MODEL_PROVIDERS = _parse_providers(env.str("MODEL_PROVIDERS", default=""))
# The model of an agent that names none. Empty (the default): the model catalogue is walked,
# thinking, balanced then fast, for the first model a configured provider lists
# (agents.providers.tiers); `tier:fast` and the like walk one tier.
DEFAULT_MODEL = env.str("DEFAULT_MODEL", default="")
# A cheap model for thread titles; unset: DEFAULT_MODEL.
MEMORY_TITLE_MODEL = env.str("MEMORY_TITLE_MODEL", default="")
MODEL_REQUEST_TIMEOUT_S = env.float("MODEL_REQUEST_TIMEOUT_S", default=60.0)
MODEL_MAX_RETRIES = env.int("MODEL_MAX_RETRIES", default=2)
MODEL_RETRY_BASE_DELAY_S = env.float("MODEL_RETRY_BASE_DELAY_S", default=0.5)
MODELS_LIST_CACHE_S = env.int("MODELS_LIST_CACHE_S", default=300)
# How close (0-100, rapidfuzz ratio) each word of a model name must be to a word of a listed
# id for a fuzzy match ("claude sonnet" -> claude-sonnet-4-6); exact ids always win.
MODEL_FUZZY_THRESHOLD = env.float("MODEL_FUZZY_THRESHOLD", default=80.0)

# Embedder for semantic recall and knowledge: "local" (all-MiniLM-L6-v2 on the CPU)
# or "provider/model" for any OpenAI-compatible embeddings endpoint.
EMBEDDER = env.str("EMBEDDER", default="local")
EMBEDDING_DIMENSIONS = env.int("EMBEDDING_DIMENSIONS", default=384)
# Load the embedder when the ASGI app starts instead of during the first request.
EMBEDDER_PRELOAD = env.bool("EMBEDDER_PRELOAD", default=True)
# Where tiktoken reads its tables: the vendored o200k_base file is unpacked here (checksum
# verified) so that counting is exact offline (see memory.tokens).
TIKTOKEN_CACHE_DIR = env.str("TIKTOKEN_CACHE_DIR", default=str(BASE_DIR / "var" / "tiktoken"))
