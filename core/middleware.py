"""Request middleware of the platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.sessions import middleware as sessions
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware import clickjacking, common, csrf, security
from django.utils.decorators import sync_only_middleware

from core.db import release_connections

M = TypeVar("M")


@sync_only_middleware
def release_connections_after_view(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Hand the request thread's database connection back to the pool as soon as the view returns.

    Django closes it when the request finishes: for a stream, after its last event,
    and for any response, only once the rest of the middleware and the send are done.
    Meanwhile the request's thread holds a connection it no longer uses while other
    work of the same process (a run's records, a stream's run) waits for one from the
    same pool (`DB_POOL`); under load every connection ends up held that way.
    Middleware outside this one that touches the database takes a connection again,
    returned when the request finishes. Synchronous only, like the block of Django's
    middleware around it: under ASGI it runs on the request's thread, where the view ran.
    """

    def middleware(request: Any) -> Any:
        response = get_response(request)
        release_connections()
        return response

    return middleware


# Django's own middleware, arranged for ASGI.
#
# Under ASGI, `MiddlewareMixin` runs each hook of a middleware on the request's thread through
# a `sync_to_async` of its own: 17 calls to a thread for one token-authenticated API request,
# 1.5 ms of a bare streamed answer on a 2-core machine. Marked synchronous only, consecutive
# middleware form one block that Django enters and leaves once, as under WSGI (6 calls in
# all); the security headers, which need no thread at all, are set on the event loop.


class SecurityMiddleware(security.SecurityMiddleware):
    """Django's, on the event loop under ASGI: it only reads the request and sets headers."""

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase | None = self.process_request(request)  # an HTTPS redirect
        if response is None:
            response = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        return self.process_response(request, cast(HttpResponse, response))  # as MiddlewareMixin does


def _synchronous(middleware: type[M]) -> type[M]:
    """Django's `middleware` as a subclass of this module marked synchronous only (Django's
    `sync_only_middleware`), so that it joins the block."""
    subclass = type(
        middleware.__name__, (middleware,), {"__module__": __name__, "__doc__": middleware.__doc__}
    )
    return cast(type[M], sync_only_middleware(subclass))


SessionMiddleware = _synchronous(sessions.SessionMiddleware)
CommonMiddleware = _synchronous(common.CommonMiddleware)
CsrfViewMiddleware = _synchronous(csrf.CsrfViewMiddleware)
AuthenticationMiddleware = _synchronous(auth.AuthenticationMiddleware)
MessageMiddleware = _synchronous(messages.MessageMiddleware)
XFrameOptionsMiddleware = _synchronous(clickjacking.XFrameOptionsMiddleware)
