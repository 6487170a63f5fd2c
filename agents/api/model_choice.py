"""The model a client asks for per request: the `X-Model` header, then `?model=`, then
`model` or `modelId` in the body. Used only where the agent allows overrides (else 403)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.request import Request


def requested_model(request: Request, data: Mapping[str, Any]) -> str | None:
    chosen = (
        request.headers.get("X-Model")
        or request.query_params.get("model")
        or data.get("model")
        or data.get("modelId")
    )
    return str(chosen).strip() or None if chosen else None
