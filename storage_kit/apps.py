from django.apps import AppConfig


class StorageKitConfig(AppConfig):
    name = "storage_kit"
    verbose_name = "Storage kit"
