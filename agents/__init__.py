"""Agents: definitions and versions, typed tools, model providers, the runtime."""
