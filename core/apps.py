from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from core.api.converters import converters_register

        converters_register()
