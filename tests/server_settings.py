"""Settings for an ASGI server process a test starts: the test database, the scripted model.

The process's connections carry `TEST_SERVER_APP_NAME` as their application name, so a
test can count them in `pg_stat_activity`.
"""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, MODEL_PROVIDERS

DATABASES["default"]["NAME"] = os.environ["TEST_SERVER_DB_NAME"]
DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = os.environ["TEST_SERVER_APP_NAME"]
MODEL_PROVIDERS = {
    **MODEL_PROVIDERS,
    "scripted": {"base_url": os.environ["SCRIPTED_BASE_URL"], "api_key_env": "SCRIPTED_API_KEY"},
}
# As in production: records behind the answer where the runtime allows it.
RUN_RECORDS_WRITE_BEHIND = os.environ.get("RUN_RECORDS_WRITE_BEHIND", "true") == "true"
