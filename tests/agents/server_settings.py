"""A server process for the approval tests: `tests.server_settings` plus the ledger tool."""

from tests.server_settings import *  # noqa: F403
from tests.server_settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.agents.apps.AgentsTestsConfig"]
