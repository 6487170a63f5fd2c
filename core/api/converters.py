"""Path converters: `<id:pk>` is a database id, so a number too large for the column is a 404, not a 500."""

from __future__ import annotations

from django.urls import register_converter

ID_MAX = 2**63 - 1


class IdConverter:
    """A positive 64-bit integer id (at most 19 digits; larger values do not match the route)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 0 < number <= ID_MAX:
            raise ValueError("out of range")  # Django answers a non-matching route: 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)


def converters_register() -> None:
    register_converter(IdConverter, "id")
