"""A task for the worker-logging test, imported by the worker it starts (`celery worker -I`)."""

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
