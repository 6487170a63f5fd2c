"""A logging filter that scrubs secrets from every record."""

from __future__ import annotations

import logging

from observability.redaction import redact, scrub_text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if isinstance(record.msg, str):
                record.msg = scrub_text(record.msg)
            if record.args:
                record.args = (
                    tuple(redact(a) for a in record.args)
                    if isinstance(record.args, tuple)
                    else redact(record.args)
                )
        except Exception:  # noqa: S110 - a log filter must never break logging
            pass
        return True
