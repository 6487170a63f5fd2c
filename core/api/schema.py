"""The OpenAPI schema's view of every operation: its own responses plus the error shape for each 4xx."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """`{code, message, details}`: every error the API answers (see docs/api.md)."""

    code = serializers.CharField(help_text="Stable, machine-readable: validation_error, not_found, ...")
    message = serializers.CharField(help_text="For people.")
    details = serializers.DictField(
        help_text="Field errors as one flat map {dotted.path: [problem, ...]} (messages.0.role), and context."
    )

    class Meta:
        ref_name = "Error"


_ALWAYS = {
    "401": "Not authenticated.",
    "403": "Not allowed.",
    "404": "Not found (also another tenant's object, and malformed ids in the path).",
}
_WITH_INPUT = {"400": "Invalid input; field errors in `details`."}
_WITH_BODY = {
    "413": "The body is too large.",
    "415": "The body's content type is not one the route parses (JSON, a form, multipart).",
}


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        errors = dict(_ALWAYS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors |= _WITH_INPUT | _WITH_BODY
        elif self.get_override_parameters() or self._get_paginator() is not None:
            errors |= _WITH_INPUT
        for code, description in errors.items():
            if code not in responses:
                body = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                responses[code] = {**body, "description": description}
        return responses
