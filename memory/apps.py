from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Memory"

    def ready(self) -> None:
        from config.celery import periodic

        periodic("memory-embed-pending", "memory.embed_pending", every_s=60)
