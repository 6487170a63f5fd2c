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

# A finished run's record, trace and spans are written by a thread of the process just
# after the answer is returned, batched (see core.writebehind); false writes them inline.
RUN_RECORDS_WRITE_BEHIND = env.bool("RUN_RECORDS_WRITE_BEHIND", default=True)
# Each process caches agent configuration until PostgreSQL announces a change (see
# agents.runtime.spec); false reads it from the database on every run.
AGENT_CONFIG_CACHE = env.bool("AGENT_CONFIG_CACHE", default=True)
