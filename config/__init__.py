"""Project configuration: settings, URL routing, ASGI/WSGI and Celery apps."""

from config.celery import app as celery_app

__all__ = ["celery_app"]
