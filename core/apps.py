from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from core.api.converters import converters_register
        from core.health import check_database, check_redis, check_worker, health_check_register

        converters_register()
        health_check_register("database", check_database)
        health_check_register("redis", check_redis)
        health_check_register("worker", check_worker)
