"""Chat selectors: what the chat page needs to know before the first message."""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings


def provider_setup_hint() -> str | None:
    """Which variable to set when the default model's provider has no key; None when it has one."""
    model: str = getattr(settings, "DEFAULT_MODEL", "")
    if not model:  # agents without a model walk the catalogue of what the providers list
        providers = getattr(settings, "MODEL_PROVIDERS", {}).values()
        keys = [p.get("api_key_env") for p in providers]
        if not keys or any(not key or os.environ.get(key) for key in keys):
            return None
        return f"No model provider is configured: set {keys[0]} (or another provider's key)."
    provider_name = model.partition("/")[0]
    provider = getattr(settings, "MODEL_PROVIDERS", {}).get(provider_name)
    if provider is None:
        return (
            f"The default model '{model}' names no configured provider: set DEFAULT_MODEL or MODEL_PROVIDERS."
        )
    key_var = provider.get("api_key_env")
    if key_var and not os.environ.get(key_var):
        return f"No model provider is configured: set {key_var} (the default model is {model})."
    return None


def chat_agents(*, tenant_id: int) -> list[dict[str, Any]]:
    """The agents the picker offers, with each tool's declared label for loading states (by
    the name the model sees: allowlisted, from a toolkit, or ambient)."""
    from agents.selectors import agent_list, agent_tools_composition
    from agents.tools.registry import registry

    agents = []
    for agent in agent_list(tenant_id=tenant_id).filter(enabled=True).prefetch_related("toolkit_uses"):
        tools = []
        for tool in agent_tools_composition(agent).tools:
            definition = registry.get(tool.tool_id)
            tools.append({"id": tool.name, "label": definition.label if definition else ""})
        agents.append(
            {
                "id": agent.slug,
                "name": agent.name or agent.slug,
                "description": getattr(agent, "description", ""),
                "allowModelOverride": agent.allow_model_override,
                # A suspended tool resumes from the next message: the chat asks for a reply, not a form.
                "autoResumeSuspendedTools": agent.auto_resume_suspended_tools,
                "tools": tools,
                "workingMemoryTemplate": working_memory_template(agent.memory),
            }
        )
    return agents


def working_memory_template(memory: dict[str, Any] | None) -> str | None:
    """What the agent's working memory holds before its first update (the markdown template, or
    an empty JSON object as text); None when the agent keeps no working memory."""
    from memory.config import MemoryConfig
    from memory.services.working_memory import working_memory_initial

    if not memory:
        return None
    try:
        config = MemoryConfig.model_validate(memory)
    except ValueError:
        return None  # a configuration the runtime refuses shows no template either
    wm = config.working_memory
    if wm is None or not wm.enabled:
        return None
    initial = working_memory_initial(config=wm)
    return initial if isinstance(initial, str) else json.dumps(initial, indent=2)
