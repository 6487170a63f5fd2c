"""Tasks for the worker-process tests, imported by the workers they start (`celery worker -I`)."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger("tests.worker")


@shared_task(name="tests.log_secret")
def log_secret(text: str) -> None:
    logger.warning("task saw %s", text)
    print(f"printed {text}")  # the worker sends stdout to its logger
    try:
        raise ValueError(f"failed with {text}")
    except ValueError:
        logger.exception("task failure")
    logger.warning("task done")


@shared_task(name="tests.backend_pid")
def backend_pid() -> int:
    """The PostgreSQL server process behind this task's database connection."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])
