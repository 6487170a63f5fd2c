from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from django.utils.module_loading import autodiscover_modules

        from agents import builtin_tools

        builtin_tools.load_all()
        autodiscover_modules("tools")  # any installed app may define tools in tools.py
        post_migrate.connect(_sync_tools, sender=self)
        _watch_config()

        from django.conf import settings

        from config.celery import periodic

        every = settings.RUNS_SWEEP_EVERY_S
        periodic("runs-expire-approvals", "agents.tasks.approvals_expire", every_s=every)
        periodic("runs-sweep-interrupted", "agents.tasks.runs_sweep", every_s=every)


def _watch_config() -> None:
    """Changes made through the ORM in this process drop the cached agent specs at once.

    Other processes learn of them from PostgreSQL (see `agents.runtime.spec`).
    """
    from agents.models import Agent, AgentToolkit, ModelRoute, Tool
    from agents.runtime.spec import agent_config_changed

    def changed(**kwargs: Any) -> None:
        agent_config_changed()

    for model in (Agent, AgentToolkit, Tool, ModelRoute):
        post_save.connect(changed, sender=model, weak=False, dispatch_uid=f"config-save-{model.__name__}")
        post_delete.connect(changed, sender=model, weak=False, dispatch_uid=f"config-del-{model.__name__}")
    m2m_changed.connect(changed, sender=Agent.tools.through, weak=False, dispatch_uid="config-allowlist")


def _sync_tools(**kwargs: Any) -> None:
    from agents.services import tools_sync

    tools_sync()
