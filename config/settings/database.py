"""PostgreSQL with pgvector: `DATABASE_URL`, or the embedded server under `var/`."""

from __future__ import annotations

from config.env import env

if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    from config.embedded_postgres import embedded_database_settings

    DATABASES = {"default": embedded_database_settings()}

# Connections come from a psycopg pool of at most DB_POOL_MAX_SIZE per process, whatever the
# number of threads (under ASGI every request has a thread of its own, and persistent
# per-thread connections ran PostgreSQL out of them). A connection goes back to the pool
# when the request, task or thread that took it ends; a request that finds the pool
# empty waits up to DB_POOL_TIMEOUT_S. DB_POOL=false: one connection per thread, closed
# after each request (for PgBouncer in transaction mode, which pools by itself). Beside the
# pool, an event loop that streams runs (daphne's) keeps one connection of its own for their
# rows (core.db.execute_batch_on_loop), and a process that caches agent configuration one
# that listens for its changes.
DB_POOL = env.bool("DB_POOL", default=True)
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=10)
DB_POOL_MIN_SIZE = min(env.int("DB_POOL_MIN_SIZE", default=2), DB_POOL_MAX_SIZE)
DB_POOL_TIMEOUT_S = env.float("DB_POOL_TIMEOUT_S", default=10.0)
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("OPTIONS", {})
if DB_POOL:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # Django's pool requires it: closing returns to the pool
    DATABASES["default"]["OPTIONS"]["pool"] = {
        "min_size": DB_POOL_MIN_SIZE,
        "max_size": DB_POOL_MAX_SIZE,
        "timeout": DB_POOL_TIMEOUT_S,
        "name": "default",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=0))

# Runs, spans and messages commit without waiting for the WAL flush (see core.db.fast_commit).
DB_FAST_COMMIT = env.bool("DB_FAST_COMMIT", default=True)

# A finished run's record, trace and spans are written by a thread of the process just
# after the answer is returned, batched (see core.writebehind); false writes them inline.
RUN_RECORDS_WRITE_BEHIND = env.bool("RUN_RECORDS_WRITE_BEHIND", default=True)
# Each process caches agent configuration until PostgreSQL announces a change (see
# agents.runtime.spec); false reads it from the database on every run.
AGENT_CONFIG_CACHE = env.bool("AGENT_CONFIG_CACHE", default=True)
