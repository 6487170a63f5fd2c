"""Request parsers that refuse text the database cannot store (see `core.api.text`), in every field and key,
and JSON nested too deeply to walk (see `core.api.jsoninput`).

Chosen in settings (`DEFAULT_PARSER_CLASSES`), so every view gets them; a view
that names its own parsers should name these.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from rest_framework import exceptions, parsers

from core.api.jsoninput import JSONTooDeep, bounded_json
from core.api.text import text_problem, unsafe_text_details


def _refuse(details: dict[str, list[str]]) -> None:
    if details:
        # Imported here: DRF imports this module while `core.errors` is still importing DRF.
        from core.errors import ValidationFailed

        raise ValidationFailed("The request contains characters that cannot be stored.", details=details)


def _form_details(data: Any, files: Any = None) -> dict[str, list[str]]:
    details = query_details(data)
    for key in files or {}:
        problem = text_problem(key)
        names = [text_problem(upload.name or "") for upload in files.getlist(key)]
        if problem or any(names):
            details[_shown(key)] = [f"In a file name: {problem or next(n for n in names if n)}"]
    return details


def _shown(text: str) -> str:
    """A name as it can appear in the error shape (escaped if it holds such characters)."""
    if text_problem(text) is None:
        return text
    return text.encode("unicode_escape", "backslashreplace").decode("ascii")


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = bounded_json(partial(super().parse, stream, media_type, parser_context))
        except JSONTooDeep as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from None
        _refuse(unsafe_text_details(data))
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        _refuse(_form_details(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        result = super().parse(stream, media_type, parser_context)
        _refuse(_form_details(result.data, result.files))
        return result


def query_details(params: Any) -> dict[str, list[str]]:
    """Field errors for query parameters (names and values) that cannot be stored."""
    details: dict[str, list[str]] = {}
    for key in params:
        problem = text_problem(key)
        if problem:
            details[_shown(key)] = [f"In a name: {problem}"]
            continue
        for value in params.getlist(key):
            problem = text_problem(value)
            if problem:
                details[key] = [problem]
    return details
