"""The repository itself: what a merge can leave behind in files no linter reads (docs, templates)."""

from __future__ import annotations

import re
import subprocess

from tests.core.workers import ROOT

_MARKER = re.compile(r"^(<{7} |={7}$|>{7} )", re.MULTILINE)
_TEXT = (".md", ".py", ".html", ".js", ".css", ".txt", ".toml", ".yaml", ".yml", ".sh", ".cfg", ".ini")


def test_no_tracked_file_carries_merge_conflict_markers():
    listing = ["git", "ls-files"]
    tracked = subprocess.run(listing, cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()  # noqa: S603
    conflicted = [
        path
        for path in tracked
        if path.endswith(_TEXT)
        and (ROOT / path).is_file()
        and _MARKER.search((ROOT / path).read_text(encoding="utf-8", errors="replace"))
    ]
    assert conflicted == []
