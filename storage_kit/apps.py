from django.apps import AppConfig


class StorageKitConfig(AppConfig):
    name = "storage_kit"
    verbose_name = "Storage kit"

    def ready(self) -> None:
        from django.conf import settings

        from config.celery import periodic

        periodic("storage-sweep", "storage_kit.tasks.storage_sweep", every_s=settings.STORAGE_SWEEP_EVERY_S)
        periodic("storage-versions-gc", "storage_kit.tasks.versions_gc", every_s=settings.STORAGE_GC_EVERY_S)
        periodic(
            "storage-webhooks-retry",
            "storage_kit.tasks.webhooks_retry_due",
            every_s=settings.WEBHOOK_RETRY_EVERY_S,
        )
        periodic(
            "storage-notifications-poll",
            "storage_kit.tasks.notifications_poll",
            every_s=settings.STORAGE_SQS_POLL_EVERY_S,
        )
