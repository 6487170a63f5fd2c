from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents"

    def ready(self) -> None:
        from agents import builtin_tools, tasks_memory  # noqa: F401 - registers built-in tools and tasks
