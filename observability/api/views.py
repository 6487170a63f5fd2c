"""Trace read API."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import actor_for_user
from observability.models import Span, Trace
from observability.selectors import trace_get


class SpanOutputSerializer(serializers.Serializer[Span]):
    id = serializers.UUIDField()
    parent_id = serializers.UUIDField(allow_null=True)
    seq = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.FloatField()
    status = serializers.CharField()
    attributes = serializers.JSONField()
    error = serializers.CharField()


class TraceDetailApi(APIView):
    class OutputSerializer(serializers.Serializer[Trace]):
        class Meta:
            ref_name = "Trace"

        id = serializers.UUIDField()
        name = serializers.CharField()
        started_at = serializers.DateTimeField()
        duration_ms = serializers.FloatField()
        status = serializers.CharField()
        attributes = serializers.JSONField()
        spans = SpanOutputSerializer(many=True, source="spans.all")

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, trace_id: uuid.UUID) -> Response:
        trace = trace_get(trace_id=trace_id, actor=actor_for_user(request.user))
        return Response(self.OutputSerializer(trace).data)
