"""WSGI entry point (management tooling; the product is served by daphne over ASGI)."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.main")
application = get_wsgi_application()
