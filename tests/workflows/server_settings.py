"""A web process of the workflow tests: the ASGI server's test settings, tasks sent to the broker."""

from tests.server_settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
