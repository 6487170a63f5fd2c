"""The edge of `/api/`: every answer there is JSON in the one error shape, whatever failed and wherever.

Before the view: a path, header or query string with text the database cannot store is a
400 naming it, and a body over the limit is a 413, before a byte of it is read.
After: an error answered by Django itself (an unknown path or a malformed id in
it, a `SuspiciousOperation`, a server error, with or without `DEBUG`) in HTML is
replaced by the error shape with the same status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from core.api.parsers import query_details
from core.api.text import text_problem
from core.errors import PayloadTooLarge, PlatformError, ValidationFailed

API_PREFIX = "/api/"

_CODES = {
    400: ("bad_request", "The request is invalid."),
    401: ("not_authenticated", "Authentication credentials were not provided or are invalid."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "This method is not allowed here."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "This content type is not supported."),
    500: ("internal_error", "The server failed to answer this request."),
}


def error_response(
    status: int, message: str | None = None, details: dict[str, Any] | None = None
) -> JsonResponse:
    code, default = _CODES.get(status, ("error" if status < 500 else "internal_error", "The request failed."))
    return JsonResponse(
        {"code": code, "message": message or default, "details": details or {}}, status=status
    )


def platform_error_response(error: PlatformError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status)


def body_limit(request: HttpRequest) -> int:
    """Bytes a body may have: uploads get `API_MAX_UPLOAD_BYTES`, everything else `DATA_UPLOAD_MAX_MEMORY_SIZE`."""
    if request.content_type == "multipart/form-data":
        return int(settings.API_MAX_UPLOAD_BYTES)
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or settings.API_MAX_UPLOAD_BYTES)


def request_refusal(request: HttpRequest) -> JsonResponse | None:
    """The answer for a request refused before routing, or None."""
    problem = text_problem(request.path_info)
    if problem:
        return platform_error_response(
            ValidationFailed(
                "The path contains characters that cannot be stored.", details={"path": [problem]}
            )
        )
    headers = {
        key[5:].replace("_", "-").title(): [problem]
        for key, value in request.META.items()
        if key.startswith("HTTP_") and isinstance(value, str) and (problem := text_problem(value))
    }
    if headers:
        return platform_error_response(
            ValidationFailed("A header contains characters that cannot be stored.", details=headers)
        )
    details = query_details(request.GET)
    if details:
        return platform_error_response(
            ValidationFailed("The query string contains characters that cannot be stored.", details=details)
        )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return error_response(400, "Content-Length is not a number.", {"Content-Length": ["Not a number."]})
    limit = body_limit(request)
    if length > limit:
        return platform_error_response(
            PayloadTooLarge(
                f"The request body is {length} bytes; at most {limit} are accepted here.",
                details={"body": [f"At most {limit} bytes."], "limit": limit},
            )
        )
    return None


def _is_json(response: HttpResponseBase) -> bool:
    return str(response.get("Content-Type", "")).startswith("application/json")


def response_in_error_shape(response: HttpResponseBase) -> HttpResponseBase:
    """An HTML (or empty) error from Django itself, as the error shape with the same status."""
    if response.status_code < 400 or response.streaming or _is_json(response):
        return response
    message = None
    if response.status_code == 405 and response.has_header("Allow"):
        message = f"Allowed methods: {response['Allow']}."
    shaped = error_response(response.status_code, message)
    for header in ("Allow", "WWW-Authenticate", "Retry-After"):
        if response.has_header(header):
            shaped[header] = response[header]
    return shaped


class ApiEdgeMiddleware:
    """Placed first in `MIDDLEWARE`, so it also shapes what the other middleware answer."""

    sync_capable = True
    async_capable = True

    def __init__(
        self, get_response: Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
    ) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        if not request.path_info.startswith(API_PREFIX):
            return self.get_response(request)
        refused = request_refusal(request)
        if refused is not None:
            return refused
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)  # noqa: S101 - sync chain
        return response_in_error_shape(response)

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path_info.startswith(API_PREFIX):
            return await self.get_response(request)  # type: ignore[misc]
        refused = request_refusal(request)
        if refused is not None:
            return refused
        response = await self.get_response(request)  # type: ignore[misc]
        return response_in_error_shape(response)


def _api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    from django.views import defaults

    return error_response(400) if _api(request) else defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    from django.views import defaults

    return error_response(403) if _api(request) else defaults.permission_denied(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    from django.views import defaults

    return error_response(404) if _api(request) else defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    from django.views import defaults

    return error_response(500) if _api(request) else defaults.server_error(request)
