"""Health of this process and the services it uses, for `GET /api/health`.

Each app registers the checks of what it owns (`health_check_register`, from its
`AppConfig.ready()`); core registers the database, Redis and the Celery worker.
A check answers `ok`, `degraded` (serving, with less: say why) or `down` (this
process cannot serve what needs it). Reasons are short fixed phrases and exception
class names: the route needs no authentication, so nothing in them may name a host,
a credential or a value.

A path that falls back at run time (recall without an embedder, counting without
tiktoken's table) calls `degradation_note(component, reason)`: logged once per
reason, and shown by the component's check until `degradation_clear(component)`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

Status = Literal["ok", "degraded", "down"]
_RANK: dict[str, int] = {"ok": 0, "degraded": 1, "down": 2}


@dataclass(frozen=True, kw_only=True, slots=True)
class ComponentHealth:
    status: Status
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class HealthReport:
    status: Status
    components: dict[str, ComponentHealth]


Check = Callable[[], ComponentHealth]
_checks: dict[str, Check] = {}
_notes: dict[str, str] = {}
_logged: set[tuple[str, str]] = set()
_lock = threading.Lock()


def health_check_register(name: str, check: Check) -> None:
    _checks[name] = check


def degradation_note(component: str, reason: str) -> None:
    """`component` works with less than it should, because of `reason` (logged once per reason)."""
    with _lock:
        _notes[component] = reason
        first = (component, reason) not in _logged
        _logged.add((component, reason))
    if first:
        logger.warning("%s degraded: %s", component, reason)


def degradation_clear(component: str) -> None:
    """`component` works fully again."""
    if component in _notes:
        with _lock:
            reason = _notes.pop(component, None)
        if reason is not None:
            logger.info("%s recovered (was: %s)", component, reason)


def degradation_of(component: str) -> str | None:
    """The reason `component` was last noted degraded, or None."""
    return _notes.get(component)


def health_report() -> HealthReport:
    """Every registered check, run now; the worst status is the report's."""
    components: dict[str, ComponentHealth] = {}
    for name, check in sorted(_checks.items()):
        try:
            result = check()
        except Exception as error:  # a check that fails says so; it never fails the route
            result = ComponentHealth(status="down", reason=f"check failed: {type(error).__name__}")
        note = degradation_of(name)
        if note is not None and result.status == "ok":
            result = ComponentHealth(status="degraded", reason=note)
        components[name] = result
    worst: Status = max((c.status for c in components.values()), key=_RANK.__getitem__, default="ok")
    return HealthReport(status=worst, components=components)


def check_database() -> ComponentHealth:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:
        return ComponentHealth(status="down", reason=f"query failed: {type(error).__name__}")
    return ComponentHealth(status="ok")


def check_redis() -> ComponentHealth:
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:
        return ComponentHealth(status="down", reason=f"ping failed: {type(error).__name__}")
    return ComponentHealth(status="ok")


_WORKER_TTL_S = 5.0
_worker_answer: tuple[float, ComponentHealth] | None = None


def check_worker() -> ComponentHealth:
    """A Celery worker answers a ping (cached for a few seconds: the ping waits up to 1 s)."""
    global _worker_answer
    from django.conf import settings

    if settings.CELERY_TASK_ALWAYS_EAGER:
        return ComponentHealth(status="ok", reason="tasks run in this process (eager)")
    cached = _worker_answer
    if cached is not None and time.monotonic() - cached[0] < _WORKER_TTL_S:
        return cached[1]
    from celery import current_app  # the project's app (config.celery), set when Django starts

    try:
        answered = bool(current_app.control.ping(timeout=1.0))
    except Exception as error:
        result = ComponentHealth(status="degraded", reason=f"broker unreachable: {type(error).__name__}")
    else:
        result = (
            ComponentHealth(status="ok")
            if answered
            else ComponentHealth(
                status="degraded",
                reason="no worker answered; background work waits or runs in the web process",
            )
        )
    _worker_answer = (time.monotonic(), result)
    return result
