"""Tools every agent may be allowed: imported by AgentsConfig.ready() so they register."""

from agents.builtin_tools import memory

__all__ = ["memory"]
