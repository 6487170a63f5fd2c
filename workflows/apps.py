from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate

if TYPE_CHECKING:
    from core.access import Actor


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
        from memory.signals import resource_data_deleted, thread_deleted
        from workflows import approvals  # noqa: F401 - registers the approval steps' gate handler

        thread_deleted.connect(_thread_deleted, dispatch_uid="workflows-thread-deleted")
        resource_data_deleted.connect(_resource_deleted, dispatch_uid="workflows-resource-deleted")


def _sync(**kwargs: Any) -> None:
    from workflows.services import definitions_sync

    definitions_sync()


def _thread_deleted(*, tenant_id: int, thread_id: str, owner_id: int | None, **kwargs: Any) -> None:
    from workflows.sweeps import runs_delete_for_thread

    runs_delete_for_thread(tenant_id=tenant_id, thread_id=thread_id, owner_id=owner_id)


def _resource_deleted(
    *, resource_id: str, actor: Actor, threads: dict[str, int | None], **kwargs: Any
) -> None:
    from workflows.sweeps import runs_delete_for_resource

    runs_delete_for_resource(actor=actor, resource_id=resource_id, threads=threads)
