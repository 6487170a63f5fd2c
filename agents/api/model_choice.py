"""The model a client asks for per request: the `X-Model` header, then `?model=`, then
`model` or `modelId` in the body. Used only where the agent allows overrides (else 403)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

# The two request-level ways of choosing the model, for the OpenAPI description of a route.
MODEL_PARAMETERS = [
    OpenApiParameter(
        "X-Model",
        str,
        OpenApiParameter.HEADER,
        required=False,
        description="A model for this request (where the agent allows it); wins over ?model= and the body.",
    ),
    OpenApiParameter(
        "model",
        str,
        OpenApiParameter.QUERY,
        required=False,
        description="A model for this request (where the agent allows it); wins over the body.",
    ),
]


def requested_model(request: Request, data: Mapping[str, Any]) -> str | None:
    chosen = (
        request.headers.get("X-Model")
        or request.query_params.get("model")
        or data.get("model")
        or data.get("modelId")
    )
    return str(chosen).strip() or None if chosen else None
