from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from agents import builtin_tools

        builtin_tools.load_all()
        autodiscover_modules("tools")  # any installed app may define tools in tools.py
        post_migrate.connect(_sync_tools, sender=self)


def _sync_tools(**kwargs: Any) -> None:
    from agents.services import tools_sync

    tools_sync()
