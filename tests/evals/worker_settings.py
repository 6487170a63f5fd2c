"""Settings for a Celery worker the tests start: the test database, the scripted model, a real broker."""

import os

from config.settings.test import *  # noqa: F403
from config.settings.test import DATABASES, MODEL_PROVIDERS, WORKFLOW_MODULES

DATABASES["default"]["NAME"] = os.environ["EVALS_TEST_DB_NAME"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
CELERY_TASK_ALWAYS_EAGER = False
MODEL_PROVIDERS = {
    **MODEL_PROVIDERS,
    "scripted": {"base_url": os.environ["SCRIPTED_BASE_URL"], "api_key_env": "SCRIPTED_API_KEY"},
}
EVALS_CASE_LEASE_S = float(os.environ["EVALS_CASE_LEASE_S"])
WORKFLOW_MODULES = [*WORKFLOW_MODULES, "tests.evals.workflow_defs"]
