from django.apps import AppConfig


class MemoryConfig(AppConfig):
    name = "memory"
    verbose_name = "Memory"

    def ready(self) -> None:
        from config.celery import periodic

        periodic("memory-embed-pending", "memory.embed_pending", every_s=60)

        from core.health import health_check_register
        from memory.health import check_embedder, check_token_counter

        health_check_register("embedder", check_embedder)
        health_check_register("token_counter", check_token_counter)
