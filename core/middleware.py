"""Request middleware of the platform."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.utils.decorators import sync_and_async_middleware

from core.db import release_connections


@sync_and_async_middleware
def release_connections_after_view(get_response: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Hand the request thread's database connection back to the pool as soon as the view returns.

    Django closes it when the request finishes: for a stream, after its last event,
    and for any response, only once the rest of the middleware and the send are done.
    Meanwhile the request's thread holds a connection it no longer uses while other
    work of the same process (a run's records, a stream's run) waits for one from the
    same pool (`DB_POOL`); under load every connection ends up held that way.
    Middleware outside this one that touches the database takes a connection again,
    returned when the request finishes.
    """
    if iscoroutinefunction(get_response):

        async def async_middleware(request: Any) -> Any:
            response = await get_response(request)
            await sync_to_async(release_connections)()
            return response

        return async_middleware

    def middleware(request: Any) -> Any:
        response = get_response(request)
        release_connections()
        return response

    return middleware
