from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from core.api.converters import converters_register
        from core.collector import collector_tune
        from core.health import check_database, check_redis, check_worker, health_check_register

        converters_register()
        health_check_register("database", check_database)
        health_check_register("redis", check_redis)
        health_check_register("worker", check_worker)
        collector_tune(settings.GC_GEN0_THRESHOLD)
