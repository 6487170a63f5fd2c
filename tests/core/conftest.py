"""The agents' fixtures (agents made through the services, test tools) for the API edge tests."""

from tests.agents.conftest import _reset_calls, make_agent  # noqa: F401 - fixtures
