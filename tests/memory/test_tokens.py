"""Token counting: exact offline from the vendored table; a broken table is reported, not hidden."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memory import tokens


@pytest.fixture
def fresh_counter(settings: Any, tmp_path: Path) -> Iterator[Path]:
    """A counter loaded anew, into an empty cache directory of its own."""
    settings.TIKTOKEN_CACHE_DIR = str(tmp_path / "tiktoken")
    tokens.reset()
    yield tmp_path
    tokens.reset()


def test_counts_exactly_without_the_network(fresh_counter: Path) -> None:
    # o200k_base token ids: "hello world" is [24912, 2375]; a len/3 estimate would say 4.
    assert tokens.count_text("hello world") == 2
    assert tokens.count_text("Bonjour, comment ça va ? 日本語") == 8
    assert tokens.status() == tokens.CounterStatus(exact=True)
    installed = list((fresh_counter / "tiktoken").iterdir())
    assert [path.name for path in installed] == ["fb374d419588a4632f3f557e76b4b70aebbca790"]


def test_a_table_that_fails_its_checksum_degrades_loudly_once(
    fresh_counter: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    tampered = fresh_counter / "o200k_base.tiktoken.gz"
    tampered.write_bytes(
        gzip.compress(gzip.decompress(tokens.VENDORED.read_bytes()).replace(b" 0\n", b" 1\n", 1))
    )
    monkeypatch.setattr(tokens, "VENDORED", tampered)

    with caplog.at_level(logging.ERROR, logger="memory.tokens"):
        first, second = tokens.count_text("hello world"), tokens.count_text("hello world")

    assert first == second == 4  # the estimate, one token per three characters
    state = tokens.status()
    assert state.exact is False
    assert "checksum" in state.reason
    assert len([r for r in caplog.records if "degraded" in r.getMessage()]) == 1
    assert not (fresh_counter / "tiktoken").exists()  # nothing unverified was installed
