"""Logging that never lets a secret out: a filter that scrubs every record, fail-closed.

The filter renders the record's message (arguments merged), its exception and
its stack once, scrubs them (`observability.redaction`) and leaves the record
holding only the scrubbed text, so a handler's formatter cannot bring the raw
values back. If anything in that fails, the record is dropped, never emitted
raw, and counted: `redaction_failures()`.

`logging_configure()` applies `settings.LOGGING` to a process whose framework
would otherwise install its own handlers (Celery's worker and beat: see
`config.celery`).
"""

from __future__ import annotations

import logging
import logging.config
import threading
from collections.abc import Iterable, Mapping

from observability.redaction import scrub_text

_formatter = logging.Formatter()
_failures = 0
_failures_lock = threading.Lock()


def redaction_failures() -> int:
    """How many log records this process dropped because redacting them failed."""
    return _failures


def _count_failure() -> None:
    global _failures
    with _failures_lock:
        _failures += 1


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_redacted", False):  # already scrubbed by another handler's filter
            return True
        try:
            record.msg = scrub_text(record.getMessage())
            record.args = ()
            if record.exc_info:
                # The formatter reuses `exc_text` instead of formatting the exception again.
                record.exc_text = scrub_text(record.exc_text or _formatter.formatException(record.exc_info))
                record.exc_info = None
            elif record.exc_text:
                record.exc_text = scrub_text(record.exc_text)
            if record.stack_info:
                record.stack_info = scrub_text(record.stack_info)
        except Exception:
            _count_failure()
            return False  # dropped: a line that could not be redacted is never written
        record.__dict__["_redacted"] = True
        return True


def logging_configure(level: str | int | None = None) -> None:
    """Apply `settings.LOGGING` (every handler redacts); `level` overrides the root level."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if level:
        logging.getLogger().setLevel(level)


class QuietTasksFilter(logging.Filter):
    """Drops the INFO lines of Celery's beat and worker (sent, received, succeeded) about the
    tasks named, housekeeping that runs every second or so and would bury every other line
    of `make run`'s terminal. Their warnings and failures still log."""

    def __init__(self, tasks: Iterable[str] = ()) -> None:
        super().__init__()
        self.tasks = frozenset(tasks)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO or not self.tasks:
            return True
        args = record.args
        values = args.values() if isinstance(args, Mapping) else args if isinstance(args, tuple) else ()
        return not any(isinstance(value, str) and value in self.tasks for value in values)
