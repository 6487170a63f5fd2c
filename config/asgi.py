"""ASGI entry point: HTTP through Django, WebSockets through Channels."""

from __future__ import annotations

import os
import threading

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.main")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from core.ws_auth import WebSocketAuthMiddleware  # noqa: E402
from memory.embedders import embedder_warm_up  # noqa: E402

if settings.EMBEDDER_PRELOAD:
    # In the background, as the Celery worker does: the server listens at once (on a fresh or
    # busy machine the model took minutes to load before the first page could be served), and
    # a request that needs the embedder meanwhile waits for the same load.
    threading.Thread(target=embedder_warm_up, name="embedder-warm-up", daemon=True).start()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin is checked where it matters, for the session cookie (core.ws_auth).
        "websocket": WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns)),
    }
)
