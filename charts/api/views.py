"""`GET /api/embed/chart/<chartId>`: a long poll for one of the caller's charts."""

from __future__ import annotations

from typing import Any

from adrf.views import APIView as AsyncAPIView
from asgiref.sync import sync_to_async
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from charts.schemas import PENDING
from charts.selectors import chart_await, chart_get
from core.access import actor_for_user
from core.db import releasing
from core.errors import NotFound, ValidationFailed


class ChartOutputSerializer(serializers.Serializer[dict[str, Any]]):
    chartId = serializers.CharField()
    status = serializers.ChoiceField(choices=["queued", "rendering", "ready", "failed"])
    title = serializers.CharField()
    chartType = serializers.CharField(allow_null=True, help_text="bar, line, pie or scatter, once ready")
    option = serializers.JSONField(allow_null=True, help_text="The ECharts option, once ready")
    error = serializers.CharField(allow_null=True, help_text="Why planning failed, once failed")


class ChartEmbedApi(AsyncAPIView):
    """Answers at once when the chart is ready or failed; otherwise waits on the chart's
    Redis channel (no thread held) until it settles, its status leaves `after`, or the
    server-side timeout passes, then answers the status it has. Another owner's chart, an
    expired or unknown one: 404."""

    @extend_schema(
        operation_id="embed_chart_retrieve",
        responses=ChartOutputSerializer,
        parameters=[
            OpenApiParameter(
                "after",
                str,
                OpenApiParameter.QUERY,
                required=False,
                enum=sorted(PENDING),
                description="Answer as soon as the status is no longer this one (default: once settled).",
            )
        ],
    )
    async def get(self, request: Request, chart_id: Any) -> Response:
        after = request.query_params.get("after")
        if after is not None and after not in PENDING:
            raise ValidationFailed(
                "after must be queued or rendering.", details={"after": [f"Unknown status {after!r}."]}
            )
        actor = await sync_to_async(releasing(actor_for_user))(request.user)
        entry = await sync_to_async(chart_get)(actor=actor, chart_id=str(chart_id))
        if entry.pending and (after is None or entry.status == after):
            waited = await chart_await(
                actor=actor, chart_id=str(chart_id), after=after, timeout_s=settings.CHART_POLL_TIMEOUT_S
            )
            if waited is None:
                raise NotFound("Chart not found (it may have expired).")
            entry = waited
        return Response(ChartOutputSerializer(entry.public()).data)
