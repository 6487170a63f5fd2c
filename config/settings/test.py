"""Settings for the test suite: the real PostgreSQL and Redis, quiet and fast."""

from __future__ import annotations

import os
from urllib.parse import urlparse

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# Tests name their own providers (the scripted server); never read a developer's key.
os.environ["OPENAI_API_KEY"] = "sk-test-planted-secret-value-0001"
os.environ.setdefault("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
# Tests name a model where they rely on one; the shipped default (empty: the catalogue walk)
# would list the models of the unreachable `openai` provider above.
os.environ.setdefault("DEFAULT_MODEL", "openai/gpt-4o-mini")

# Under pytest-xdist each worker ("gw0", "gw1", ...) takes the Redis database after the
# previous one's, so that brokers flushed, queues and channel groups never meet. The URL is
# written back so that the processes a test starts (servers, Celery workers) use it as is.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw") and os.environ.get("TEST_REDIS_WORKER") != _xdist_worker:
    _base = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    _db = int(_base.path.strip("/") or "0") + int(_xdist_worker[2:])
    os.environ["REDIS_URL"] = _base._replace(path=f"/{_db}").geturl()
    os.environ["TEST_REDIS_WORKER"] = _xdist_worker

from config.settings.main import *  # noqa: E402, F403 - after the environment above
from config.settings.services import REDIS_URL, redis_channel_layer  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Unit tests use the in-memory layer; the end-to-end chat tests (a real daphne) and tests of
# the Redis layer use REDIS_CHANNEL_LAYERS: the production layer, its keys under a prefix of
# this Redis database's own, so parallel runs on other databases never meet.
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
_redis = urlparse(REDIS_URL)
REDIS_CHANNEL_LAYERS = {
    "default": redis_channel_layer(
        url=REDIS_URL, prefix=f"test:{_redis.port or 6379}:{_redis.path.strip('/') or '0'}:asgi"
    )
}
MODEL_RETRY_BASE_DELAY_S = 0.01
MODEL_REQUEST_TIMEOUT_S = 5.0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING["root"]["level"] = "WARNING"
EMBEDDER_PRELOAD = False  # tests load the model once per session where they need it
WEBHOOK_BACKOFF_BASE_S = 0.0
WEBHOOK_TIMEOUT_S = 2.0
# Tests run inside transactions that other connections cannot see: records are written
# inline and configuration is read on every run. Their own tests switch them on.
RUN_RECORDS_WRITE_BEHIND = False
AGENT_CONFIG_CACHE = False
# The workflows the tests run (tests/workflows/defs.py), beside the shipped example.
WORKFLOW_MODULES = [*WORKFLOW_MODULES, "tests.workflows.defs"]
WORKFLOW_SWEEP_EVERY_S = 0.5
