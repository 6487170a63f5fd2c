"""The redacting log filter: every record scrubbed, and a record it cannot scrub is dropped."""

from __future__ import annotations

import io
import logging
import os
from typing import Any

import pytest

from observability import logging as redacting
from observability.logging import RedactingFilter, redaction_failures

SECRET = os.environ["OPENAI_API_KEY"]  # configured by the test settings: a known secret


@pytest.fixture
def captured() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.Logger("tests.redaction", logging.INFO)  # outside the hierarchy: only this handler
    logger.addHandler(handler)
    return logger, stream


def test_messages_arguments_and_tracebacks_are_scrubbed(captured):
    logger, stream = captured
    logger.warning("key %s in a %s", SECRET[:10], "split " + SECRET[10:] + " and whole " + SECRET)
    try:
        raise ValueError(f"provider rejected {SECRET}")
    except ValueError:
        logger.exception("call failed for %r", {"note": SECRET})
    output = stream.getvalue()
    assert SECRET not in output
    assert output.count("[REDACTED]") >= 3
    assert "ValueError: provider rejected [REDACTED]" in output


def test_a_record_that_cannot_be_redacted_is_dropped_and_counted(captured, monkeypatch: Any):
    logger, stream = captured

    def broken(text: str) -> str:
        raise RuntimeError("redaction is broken")

    monkeypatch.setattr(redacting, "scrub_text", broken)
    before = redaction_failures()
    logger.warning("the key is %s", SECRET)
    assert stream.getvalue() == ""  # nothing written, least of all the raw line
    assert redaction_failures() == before + 1


def test_a_record_whose_argument_cannot_be_rendered_is_dropped_and_counted(captured):
    logger, stream = captured

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

    before = redaction_failures()
    logger.warning("value %s", Unprintable())
    assert stream.getvalue() == ""
    assert redaction_failures() == before + 1
