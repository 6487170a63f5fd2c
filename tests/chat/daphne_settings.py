"""Settings for a daphne process the tests start: the test database, the real runtime on the
scripted model, and the Redis channel layer as in production (under this Redis database's prefix)."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, INSTALLED_APPS, MODEL_PROVIDERS, REDIS_CHANNEL_LAYERS

DATABASES["default"]["NAME"] = os.environ["CHAT_TEST_DB_NAME"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
INSTALLED_APPS = [*INSTALLED_APPS, "tests.chat.apps.ChatTestsConfig"]
MODEL_PROVIDERS = {
    **MODEL_PROVIDERS,
    "scripted": {"base_url": os.environ["SCRIPTED_BASE_URL"], "api_key_env": "SCRIPTED_API_KEY"},
}
CHANNEL_LAYERS = REDIS_CHANNEL_LAYERS
