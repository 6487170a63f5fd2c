"""Static files served by WhiteNoise without taking every request off the event loop.

WhiteNoise's middleware is synchronous only, so under ASGI Django ran it, and with it every
middleware and view below it, on a worker thread: each request, the chat route's stream
included, paid a hop to that thread and back before its view ran. This subclass is async
capable: a request for anything other than a static file (under `STATIC_URL`) or a file of
`WHITENOISE_ROOT` (the favicon) goes straight on without WhiteNoise; a static file is looked
up and served as WhiteNoise does, on a thread when the server is async.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Any = None, settings: Any = settings) -> None:
        super().__init__(get_response, settings)
        root = getattr(settings, "WHITENOISE_ROOT", None)
        self._root_paths = (
            frozenset(
                "/" + path.relative_to(root).as_posix() for path in Path(root).rglob("*") if path.is_file()
            )
            if root
            else frozenset()
        )
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def _may_be_static(self, path: str) -> bool:
        return path.startswith(self.static_prefix) or path in self._root_paths

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        if not self._may_be_static(request.path_info):
            return self.get_response(request)
        return super().__call__(request)

    async def _acall(self, request: Any) -> Any:
        if self._may_be_static(request.path_info):
            static_file = await sync_to_async(self._find, thread_sensitive=False)(request.path_info)
            if static_file is not None:
                return self.serve(static_file, request)
        return await self.get_response(request)

    def _find(self, path: str) -> Any:
        return self.find_file(path) if self.autorefresh else self.files.get(path)
