"""Every route the URL resolver serves and every frame type the chat consumer takes."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from chat.frames import ClientFrame

METHODS = ("get", "post", "put", "patch", "delete")


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if str(entry.pattern) == "admin/":
                yield "admin/", None  # the Django admin: staff only (checked separately)
                continue
            yield from _routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def _methods(callback: Any) -> set[str]:
    view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view is None:  # a function view: the methods its table entry names
        from tests.isolation.entries import ROUTES  # the tables import this module

        return set(ROUTES.get("", {}))
    return {m for m in METHODS if hasattr(view, m)}


def route_key(route: str) -> str:
    """The route without its converters (`<id:pk>` -> `<pk>`), so retyping a parameter keeps its entry."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", route)


def every_route() -> dict[str, set[str]]:
    return {
        route_key(route): _methods(cb)
        for route, cb in _routes(get_resolver().url_patterns)
        if route != "admin/"
    }


def every_frame_type() -> set[str]:
    types: set[str] = set()
    for model in typing.get_args(ClientFrame):
        types.update(typing.get_args(model.model_fields["type"].annotation))
    return types
