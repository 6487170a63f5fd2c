from django.apps import AppConfig


class ChatTestsConfig(AppConfig):
    """Installed only in the daphne process the tests start, so it registers the test tool."""

    name = "tests.chat"
    label = "chat_tests"

    def ready(self) -> None:
        from tests.chat import tools  # noqa: F401
