"""A run's numbered events as server-sent events: `id:` is the event's number, so a client
reconnects with `Last-Event-ID` (or `?offset=`) and misses nothing; a comment line every
WORKFLOW_SSE_HEARTBEAT_S keeps proxies from closing a quiet stream. The stream ends after the
run's terminal event, or once the run is suspended waiting for input (its last event then
says which step waits; watch again after resuming)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncGenerator

from django.conf import settings
from django.http import StreamingHttpResponse
from rest_framework.request import Request

from core.db import db_to_async
from core.errors import ValidationFailed
from workflows.models import Event, WorkflowRun

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def offset_of(request: Request) -> int:
    raw = request.query_params.get("offset") or request.headers.get("Last-Event-ID") or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise ValidationFailed("offset must be a whole number.", details={"offset": ["A whole number."]})
    return int(raw)


def _encode(event: Event) -> bytes:
    body = {"seq": event.seq, "type": event.type, "path": event.path, "data": event.data}
    text = json.dumps(body, separators=(",", ":"), default=str, ensure_ascii=False)
    return f"id: {event.seq}\nevent: {event.type}\ndata: {text}\n\n".encode()


def _read(run_id: uuid.UUID, offset: int) -> tuple[list[Event], bool, bool]:
    """Events after `offset`, whether the run has stopped (ended, or suspended waiting for
    input), and whether these events reach the run's last one."""
    events = list(Event.objects.filter(run_id=run_id, seq__gt=offset).order_by("seq")[:200])
    run = WorkflowRun.objects.filter(pk=run_id).values("status", "event_seq").first()
    stopped = (*WorkflowRun.TERMINAL, WorkflowRun.Status.SUSPENDED)
    ended = run is None or run["status"] in stopped
    caught_up = run is None or run["event_seq"] <= (events[-1].seq if events else offset)
    return events, ended, caught_up


async def event_body(run_id: uuid.UUID, offset: int) -> AsyncGenerator[bytes, None]:
    heartbeat_s = float(settings.WORKFLOW_SSE_HEARTBEAT_S)
    beat = time.monotonic()
    read = db_to_async(_read)
    while True:
        events, ended, caught_up = await read(run_id, offset)
        for event in events:
            yield _encode(event)
            offset = event.seq
        if ended and caught_up:
            return  # the run ended (its terminal event is sent) or waits for input
        if not events:
            if time.monotonic() - beat >= heartbeat_s:
                beat = time.monotonic()
                yield b": heartbeat\n\n"
            await asyncio.sleep(0.2)


def sse_events(run_id: uuid.UUID, *, offset: int) -> StreamingHttpResponse:
    response = StreamingHttpResponse(event_body(run_id, offset), content_type="text/event-stream")
    for name, value in HEADERS.items():
        response[name] = value
    return response
