"""Limit/offset pages with bounds: a limit or offset out of range is a 400, never a database error."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import pagination, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ValidationFailed

MAX_OFFSET = 2**31 - 1


def _bounded(request: Request, name: str, *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12 or not low <= int(raw) <= high:
        raise ValidationFailed(
            f"{name} must be an integer from {low} to {high}.",
            details={name: [f"An integer from {low} to {high}."]},
        )
    return int(raw)


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit/offset pages; `limit` is 1..API_MAX_PAGE_SIZE and `offset` 0..2**31-1, or a 400."""

    @property
    def max_limit(self) -> int:  # type: ignore[override]
        return int(settings.API_MAX_PAGE_SIZE)

    def get_limit(self, request: Request) -> int | None:
        limit = _bounded(request, self.limit_query_param, low=1, high=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Request) -> int:
        return _bounded(request, self.offset_query_param, low=0, high=MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, MAX_OFFSET)}
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update(minimum=low, maximum=high)
        return parameters


class PageQuery(serializers.Serializer[Any]):
    """The page parameters as the schema shows them (`LimitOffsetPagination` checks them)."""

    limit = serializers.IntegerField(
        required=False, min_value=1, max_value=settings.API_MAX_PAGE_SIZE, help_text="Results per page."
    )
    offset = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_OFFSET, help_text="Index of the first result."
    )


PAGE_PARAMETERS = [PageQuery]


def page_response(request: Request, view: APIView, queryset: Any, serializer: Any) -> Response:
    """One page of `queryset`, serialised, in DRF's `{count, next, previous, results}` shape."""
    paginator = LimitOffsetPagination()
    page: Any = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


def paged(serializer: type[serializers.BaseSerializer[Any]], name: str) -> type[serializers.Serializer[Any]]:
    """The schema of one page of `serializer` (for `extend_schema(responses=...)`)."""
    fields: dict[str, Any] = {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": serializer(many=True),
    }
    return type(name, (serializers.Serializer,), fields)
