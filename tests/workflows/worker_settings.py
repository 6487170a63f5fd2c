"""Settings for a Celery worker the workflow tests start: the test database, a short lease."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, MODEL_PROVIDERS

DATABASES["default"]["NAME"] = os.environ["EVALS_TEST_DB_NAME"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_TASK_ALWAYS_EAGER = False
MODEL_PROVIDERS = {
    **MODEL_PROVIDERS,
    "scripted": {"base_url": os.environ["SCRIPTED_BASE_URL"], "api_key_env": "SCRIPTED_API_KEY"},
}
WORKFLOW_LEASE_S = float(os.environ.get("WORKFLOW_LEASE_S", "2"))
WORKFLOW_INLINE_WAIT_S = float(os.environ.get("WORKFLOW_INLINE_WAIT_S", "0.5"))
