"""WebSocket tickets: short-lived, single-use stand-ins for credentials in a socket's URL.

A client authenticated over REST (token or session) asks for a ticket and opens the
socket with `?ticket=<ticket>` within `WS_TICKET_TTL_S` seconds (default 60). Redeeming a
ticket deletes it (Redis `GETDEL`), so it opens one socket at most; an expired ticket is
gone. Only a hash of the ticket is stored, so the keys in Redis open nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import secrets
import weakref
from dataclasses import dataclass

import redis
import redis.asyncio as aioredis
from django.conf import settings

_sync_client: redis.Redis | None = None
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True, kw_only=True)
class WsTicket:
    ticket: str
    expires_at: dt.datetime
    ttl_s: int


def ttl_s() -> int:
    return int(settings.WS_TICKET_TTL_S)


def _key(ticket: str) -> str:
    return "ws:ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def _sync() -> redis.Redis:
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL)
    return _sync_client


def _async() -> aioredis.Redis:
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        client = _async_clients[loop] = aioredis.Redis.from_url(settings.REDIS_URL)
    return client


def ws_ticket_issue(*, user_id: int) -> WsTicket:
    """A new ticket for the user, valid for one socket within the TTL."""
    ticket = secrets.token_urlsafe(32)
    ttl = ttl_s()
    _sync().set(_key(ticket), str(user_id), ex=ttl, nx=True)
    return WsTicket(
        ticket=ticket, expires_at=dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=ttl), ttl_s=ttl
    )


async def ws_ticket_redeem(*, ticket: str) -> int | None:
    """The ticket's user id, consuming the ticket; None when it is unknown, used or expired."""
    if not ticket or len(ticket) > 200:
        return None
    value = await _async().getdel(_key(ticket))
    return int(value) if value is not None else None
