"""`GET /api/health`: up or down, and why, without authentication."""

from __future__ import annotations

from dataclasses import asdict

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.health import health_report


class HealthApi(APIView):
    """Each component `ok`, `degraded` or `down` with a reason. 200 unless something is down
    (503): a degraded process still serves, and a load balancer should keep it."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        auth=[],
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {"status": serializers.CharField(), "components": serializers.DictField()},
            ),
            (503, "application/json"): inline_serializer(
                "HealthDown",
                {"status": serializers.CharField(), "components": serializers.DictField()},
            ),
        },
    )
    def get(self, request: Request) -> Response:
        report = health_report()
        body = {
            "status": report.status,
            "components": {name: asdict(component) for name, component in report.components.items()},
        }
        return Response(body, status=503 if report.status == "down" else 200)
