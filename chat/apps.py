from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"

    def ready(self) -> None:
        from agents.runs.services import thread_publisher_register
        from chat.runs.hub import thread_mirror

        # Continuations decided outside the chat (REST, the admin) show on the run's thread too.
        thread_publisher_register(thread_mirror)
