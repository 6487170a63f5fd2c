"""Model providers: any OpenAI-compatible endpoint through the `openai` SDK.

`resolve(model)` turns `provider/model` into a `ModelRef` with its endpoint;
`resolution` matches a name against what the provider lists (exact, fuzzy, or the tiered
catalogue of `tiers`), with the lists cached by `catalog`;
`openai_client` holds the SDK (imported nowhere else for chat);
`calls` does one model call with retries and the fallback chain.
"""

from agents.providers.config import ModelRef, ProviderNotConfigured, UnknownProvider, resolve

__all__ = ["ModelRef", "ProviderNotConfigured", "UnknownProvider", "resolve"]
