"""Strict serializer fields: what a client sends is what it meant, or a 400.

DRF's own fields coerce: `CharField` turns `123` into `"123"`, `IntegerField`
takes `"7"` and `true`, `BooleanField` takes `"yes"` and `1`. In a JSON body
these fields accept only the JSON type they name. Query strings and form
bodies carry only text, so there the text is parsed as DRF does. Every integer
field is bounded (a 64-bit column by default), so no client number overflows a
column or a `timedelta`.

Use these in every input serializer instead of `rest_framework.serializers`'s.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from core.api import jsoninput
from core.api.text import unsafe_text_details

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1


def _from_text_form(field: serializers.Field[Any, Any, Any, Any]) -> bool:
    """True when the data came from a query string or a form (where every value is text)."""
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


class _BlankIsAValue:
    """In a query string or form, `name=` is an empty value (refused unless blank is allowed),
    not an omitted one as DRF reads it; so `?cursor=` means what `{"cursor": ""}` means."""

    def get_value(self, dictionary: Any) -> Any:
        if (
            isinstance(dictionary, QueryDict)
            and dictionary.get(self.field_name) == ""  # type: ignore[attr-defined]
            and not getattr(self, "allow_blank", False)
        ):
            return ""
        return super().get_value(dictionary)  # type: ignore[misc]


class _StrictText(_BlankIsAValue):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class CharField(_StrictText, serializers.CharField):
    """A string, never a number turned into one."""


class RegexField(_StrictText, serializers.RegexField):
    """A string matching a pattern, never a number turned into one."""


class IntegerField(_BlankIsAValue, serializers.IntegerField):
    """An integer (not a boolean, not a float, not a string in JSON), within bounds (64-bit unless narrower)."""

    default_error_messages = {"invalid": "A valid integer is required."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", INT_MIN)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> int:
        # A JSON number with a fraction or an exponent (`3.0`, `3e0`) is not an integer either.
        if isinstance(data, bool | float) or (isinstance(data, str) and not _from_text_form(self)):
            self.fail("invalid")
        if isinstance(data, str) and len(data) > 40:
            self.fail("max_string_length")
        return super().to_internal_value(data)


class BooleanField(_BlankIsAValue, serializers.BooleanField):
    """`true` or `false` in JSON; the usual spellings in a query string or form."""

    default_error_messages = {"invalid": "Must be a boolean."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool) and not (isinstance(data, str) and _from_text_form(self)):
            self.fail("invalid")
        return bool(super().to_internal_value(data))


class FloatField(_BlankIsAValue, serializers.FloatField):
    """A number (not a boolean, not a string in JSON)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or (isinstance(data, str) and not _from_text_form(self)):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONObjectField(_BlankIsAValue, serializers.JSONField):
    """A JSON object; in a query string or form, the object's JSON text. Its text must be storable."""

    default_error_messages = {"not_an_object": "Must be a JSON object."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str) and _from_text_form(self):
            try:
                data = jsoninput.loads(data)
            except ValueError:
                self.fail("not_an_object")
        if not isinstance(data, dict):
            self.fail("not_an_object")
        problems = unsafe_text_details(data)
        if problems:
            raise serializers.ValidationError(problems)
        return data


class _ObjectFromText:
    """In a query string or form, an object field is its JSON text (`memory={"thread": "t"}`), as
    `JSONObjectField` reads it. DRF reads only dotted keys there (`memory.thread`), so `memory=x`
    was silently left out; now it is refused as not an object."""

    def get_value(self, dictionary: Any) -> Any:
        name = self.field_name  # type: ignore[attr-defined]
        if isinstance(dictionary, QueryDict) and name in dictionary:
            text = dictionary.get(name)
            try:
                return jsoninput.loads(text or "")
            except ValueError:
                return text  # not JSON: refused as not an object
        return super().get_value(dictionary)  # type: ignore[misc]


class DictField(_ObjectFromText, serializers.DictField):
    """An object with any keys; in a query string or form, the object's JSON text."""


class NestedObject(_ObjectFromText, serializers.Serializer[dict[str, Any]]):
    """The base of a nested input object (`memory`, `structuredOutput`): in a query string or form,
    the object's JSON text."""
