"""One error shape for the whole platform: `{code, message, details}`.

Platform errors carry a machine-readable code and an HTTP status. The DRF
exception handler renders them, DRF's own exceptions and validation errors in
that same shape, so clients parse every error one way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.db import OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class PlatformError(Exception):
    """Base of every error a client may see."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = "The request failed."

    def __init__(self, message: str | None = None, *, details: dict[str, Any] | None = None) -> None:
        self.message = message or self.default_message
        self.details = details or {}
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "details": self.details}


class ValidationFailed(PlatformError):
    """Invalid input; `details` are field errors, flattened to dotted paths (`flat_details`)."""

    code = "validation_error"
    status = 400
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, *, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, details=flat_details(details or {}))


NON_FIELD_ERRORS = "non_field_errors"


def flat_details(details: Mapping[str, Any], *, context: bool = True) -> dict[str, Any]:
    """Field errors in the error shape's flat form: each dotted path (`messages.0.role`,
    `memory.resource`) to a list of messages.

    Nested mappings and lists (DRF's nested serializers and list fields, a service's nested
    errors) become paths; a nested object's own errors (`non_field_errors`) belong to its path
    (`messages`). With `context`, a top-level value that is neither a mapping nor a list
    (`traceId`) is context and kept as it is; otherwise it is a message.
    """
    flat: dict[str, Any] = {}
    for key, value in details.items():
        if context and not isinstance(value, Mapping | list | tuple):
            flat[str(key)] = value
        else:
            _flatten(value, str(key), flat)
    return flat


def _flatten(value: Any, path: str, flat: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, path if str(key) == NON_FIELD_ERRORS else f"{path}.{key}", flat)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, Mapping | list | tuple):
                _flatten(item, f"{path}.{index}", flat)
            else:
                flat.setdefault(path, []).append(str(item))
    else:
        flat.setdefault(path, []).append(str(value))


class NotAuthenticated(PlatformError):
    code = "not_authenticated"
    status = 401
    default_message = "Authentication credentials were not provided or are invalid."


class Forbidden(PlatformError):
    code = "forbidden"
    status = 403
    default_message = "You may not do this."


class NotFound(PlatformError):
    code = "not_found"
    status = 404
    default_message = "Not found."


class Conflict(PlatformError):
    code = "conflict"
    status = 409
    default_message = "The request conflicts with the current state."


class Disabled(Conflict):
    code = "disabled"
    default_message = "This is disabled."


class PayloadTooLarge(PlatformError):
    code = "payload_too_large"
    status = 413
    default_message = "The request body is too large."


class UpstreamError(PlatformError):
    code = "upstream_error"
    status = 502
    default_message = "An upstream service failed."


class ServiceUnavailable(PlatformError):
    code = "service_unavailable"
    status = 503
    default_message = "A service the platform needs is unavailable."


class DatabaseUnavailable(ServiceUnavailable):
    code = "database_unavailable"
    default_message = "The database is busy or unavailable; try again shortly."


_DRF_CODES: dict[type[Exception], str] = {
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.AuthenticationFailed: "not_authenticated",
    drf_exceptions.PermissionDenied: "forbidden",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "throttled",
}


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler that renders every error as `{code, message, details}`."""
    if isinstance(exc, PlatformError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        return Response(NotFound().as_dict(), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(Forbidden().as_dict(), status=403)
    if isinstance(exc, RequestDataTooBig):
        return Response(PayloadTooLarge().as_dict(), status=413)
    if isinstance(exc, OperationalError):  # the pool had no connection in time, or the database is down
        logger.warning("database unavailable: %s", type(exc.__cause__ or exc).__name__)
        unavailable = Response(DatabaseUnavailable().as_dict(), status=503)
        unavailable["Retry-After"] = "1"
        return unavailable
    if isinstance(exc, SuspiciousOperation):  # too many fields or files, a broken multipart body
        return Response(ValidationFailed(str(exc) or None).as_dict(), status=400)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, drf_exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {NON_FIELD_ERRORS: exc.detail}
        details = flat_details(errors, context=False)
        response.data = {"code": "validation_error", "message": "The request is invalid.", "details": details}
        return response
    code = next((c for cls, c in _DRF_CODES.items() if isinstance(exc, cls)), "error")
    detail = getattr(exc, "detail", str(exc))
    response.data = {"code": code, "message": str(detail), "details": {}}
    return response
