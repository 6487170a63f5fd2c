"""PostgreSQL with pgvector: `DATABASE_URL`, or the embedded server under `var/`."""

from __future__ import annotations

from config.env import env

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from config.embedded_postgres import embedded_database_settings

    DATABASES = {"default": embedded_database_settings()}

DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

# Runs, spans and messages commit without waiting for the WAL flush (see core.db.fast_commit).
DB_FAST_COMMIT = env.bool("DB_FAST_COMMIT", default=True)
