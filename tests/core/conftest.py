"""Fixtures of other apps the API edge tests use: agents made through the services, test tools,
and the moto S3 server."""

from tests.agents.conftest import _reset_calls, make_agent  # noqa: F401 - fixtures
from tests.storage_kit.conftest import moto_server  # noqa: F401 - a fixture
