"""The model a client asks for per request: the `X-Model` header, then `?model=`, then
`model` or `modelId` in the body. Used only where the agent allows overrides (else 403)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from agents.limits import IDEMPOTENCY_KEY_MAX_LENGTH, MODEL_NAME_MAX_LENGTH
from core.errors import ValidationFailed

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
    """The model the request chooses (header, then query, then body), or None.

    A 400 naming where the name came from (`X-Model`, `model`, `modelId`) when it is longer
    than a run can store; the body's fields are bounded by their serializer too.
    """
    sources = (
        ("X-Model", request.headers.get("X-Model")),
        ("model", request.query_params.get("model")),
        ("model", data.get("model")),
        ("modelId", data.get("modelId")),
    )
    field, chosen = next(((f, v) for f, v in sources if v), ("", None))
    if not chosen:
        return None
    name = str(chosen).strip()
    _bounded(field, name, MODEL_NAME_MAX_LENGTH)
    return name or None


def idempotency_key_header(request: Request) -> str | None:
    """The `Idempotency-Key` header, or None; a 400 naming it when it is longer than a run can store."""
    key = request.headers.get("Idempotency-Key") or None
    if key is not None:
        _bounded("Idempotency-Key", key, IDEMPOTENCY_KEY_MAX_LENGTH)
    return key


def _bounded(field: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise ValidationFailed(details={field: [f"Ensure this field has no more than {limit} characters."]})
