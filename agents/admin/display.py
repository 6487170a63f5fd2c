"""Small renderers shared by the agents admin pages."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString

PRE_STYLE = (
    "white-space:pre-wrap;word-break:break-word;max-height:32em;overflow:auto;margin:0;"
    "font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px"
)


def pretty_json(value: Any) -> SafeString | str:
    """A JSON value indented inside a <pre>; empty objects read as a dash."""
    if value in (None, {}, []):
        return "—"
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True, default=str)
    return format_html('<pre style="{}">{}</pre>', PRE_STYLE, text)
