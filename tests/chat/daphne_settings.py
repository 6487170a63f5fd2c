"""Settings for a daphne process the tests start: the test database, the scripted runtime."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES

CHAT_RUNTIME = "tests.chat.scripted_runtime.ScriptedRuntime"
DATABASES["default"]["NAME"] = os.environ["CHAT_TEST_DB_NAME"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
