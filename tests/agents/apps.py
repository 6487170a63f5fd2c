from django.apps import AppConfig


class AgentsTestsConfig(AppConfig):
    """Installed only in the server processes the approval tests start: registers their tool."""

    name = "tests.agents"
    label = "agents_tests"

    def ready(self) -> None:
        from tests.agents import ledger_tool  # noqa: F401
