"""Thin views: validate, call one service or selector, serialise. Every query is scoped to the caller's tenant."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.tenancy import tenant_for_user
from storage_kit import selectors
from storage_kit.api import serializers as s
from storage_kit.services import checkpoints, forks, workspaces


def _tenant_id(request: Request) -> int:
    return int(tenant_for_user(request.user).pk)


def _report(report: Any) -> dict[str, Any]:
    return {"ok": report.ok, "resources": report.resources, "errors": report.errors}


def _page(request: Request, view: APIView, queryset: Any, serializer: Any) -> Response:
    paginator = LimitOffsetPagination()
    page: Any = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class WorkspaceListCreate(APIView):
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.workspace_list(tenant_id=_tenant_id(request)), s.WorkspaceOut)

    def post(self, request: Request) -> Response:
        data = s.WorkspaceIn(data=request.data)
        data.is_valid(raise_exception=True)
        handle = workspaces.workspace_create(tenant_id=_tenant_id(request), **data.validated_data)
        return Response(s.HandleOut(handle).data, status=201)


class WorkspaceDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        workspace = workspaces.workspace_get(tenant_id=_tenant_id(request), workspace_id=pk)
        return Response(s.WorkspaceOut(workspace).data)


class WorkspaceTeardown(APIView):
    def post(self, request: Request, pk: int) -> Response:
        return Response(
            _report(workspaces.workspace_teardown(tenant_id=_tenant_id(request), workspace_id=pk))
        )


class ForkListCreate(APIView):
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.fork_list(tenant_id=_tenant_id(request)), s.ForkOut)

    def post(self, request: Request) -> Response:
        data = s.ForksIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = forks.forks_create(tenant_id=_tenant_id(request), **data.validated_data)
        body = {
            "fork_set_id": result.fork_set_id,
            "checkpoint_id": result.checkpoint_id,
            "forks": [s.HandleOut(fork).data for fork in result.forks],
            "failures": result.failures,
        }
        return Response(body, status=201)


class ForkDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ForkOut(forks.fork_get(tenant_id=_tenant_id(request), fork_id=pk)).data)


class ForkTeardown(APIView):
    def post(self, request: Request, pk: int) -> Response:
        return Response(_report(forks.fork_teardown(tenant_id=_tenant_id(request), fork_id=pk)))


class CheckpointListCreate(APIView):
    def get(self, request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", 50))
        except ValueError:
            limit = 50
        page = checkpoints.checkpoint_list(
            tenant_id=_tenant_id(request),
            bucket=request.query_params.get("bucket") or None,
            limit=limit,
            cursor=request.query_params.get("cursor") or None,
        )
        results = [s.CheckpointOut(item).data for item in page.items]
        return Response({"results": results, "next_cursor": page.next_cursor})

    def post(self, request: Request) -> Response:
        data = s.CheckpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        info = checkpoints.checkpoint_create(tenant_id=_tenant_id(request), **data.validated_data)
        return Response(s.CheckpointOut(info).data, status=201)


class CheckpointDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        checkpoint = checkpoints.checkpoint_get(tenant_id=_tenant_id(request), checkpoint_id=pk)
        return Response(s.CheckpointOut(checkpoints.checkpoint_info(checkpoint)).data)

    def delete(self, request: Request, pk: int) -> Response:
        checkpoints.checkpoint_delete(tenant_id=_tenant_id(request), checkpoint_id=pk)
        return Response(status=204)


class CheckpointRestore(APIView):
    def post(self, request: Request, pk: int) -> Response:
        data = s.RestoreIn(data=request.data)
        data.is_valid(raise_exception=True)
        handle = forks.checkpoint_restore(
            tenant_id=_tenant_id(request), checkpoint_id=pk, **data.validated_data
        )
        return Response(s.HandleOut(handle).data, status=201)


class DeliveryList(APIView):
    def get(self, request: Request) -> Response:
        queryset = selectors.delivery_list(tenant_id=_tenant_id(request)).prefetch_related("attempt_log")
        return _page(request, self, queryset, s.DeliveryOut)


class DeliveryDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(
            s.DeliveryOut(selectors.delivery_get(tenant_id=_tenant_id(request), delivery_id=pk)).data
        )
