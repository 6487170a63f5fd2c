from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        from django.conf import settings

        from config.celery import periodic
        from workflows.registry import workflows_import

        workflows_import(list(settings.WORKFLOW_MODULES))
        periodic("workflows-sweep", "workflows.runs_sweep", every_s=settings.WORKFLOW_SWEEP_EVERY_S)
        post_migrate.connect(_sync, sender=self)


def _sync(**kwargs: Any) -> None:
    from workflows.services import definitions_sync

    definitions_sync()
