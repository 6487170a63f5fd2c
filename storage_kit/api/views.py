"""Thin views: validate, call one service or selector, serialise. Who may reach what is decided
by the services and selectors (core.access), never here."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Actor, actor_for_user
from storage_kit import selectors
from storage_kit.api import serializers as s
from storage_kit.services import checkpoints, coordination, forks, workspaces


def _actor(request: Request) -> Actor:
    return actor_for_user(request.user)


def _report(report: Any) -> dict[str, Any]:
    return {"ok": report.ok, "resources": report.resources, "errors": report.errors}


def _page(request: Request, view: APIView, queryset: Any, serializer: Any) -> Response:
    paginator = LimitOffsetPagination()
    page: Any = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer(page, many=True).data)


class WorkspaceListCreate(APIView):
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.workspace_list(actor=_actor(request)), s.WorkspaceOut)

    def post(self, request: Request) -> Response:
        data = s.WorkspaceIn(data=request.data)
        data.is_valid(raise_exception=True)
        handle = workspaces.workspace_create(actor=_actor(request), **data.validated_data)
        return Response(s.HandleOut(handle).data, status=201)


class WorkspaceDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        workspace = workspaces.workspace_get(actor=_actor(request), workspace_id=pk)
        return Response(s.WorkspaceOut(workspace).data)


class WorkspaceTeardown(APIView):
    def post(self, request: Request, pk: int) -> Response:
        return Response(_report(workspaces.workspace_teardown(actor=_actor(request), workspace_id=pk)))


class ForkListCreate(APIView):
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.fork_list(actor=_actor(request)), s.ForkOut)

    def post(self, request: Request) -> Response:
        data = s.ForksIn(data=request.data)
        data.is_valid(raise_exception=True)
        result = forks.forks_create(actor=_actor(request), **data.validated_data)
        body = {
            "fork_set_id": result.fork_set_id,
            "checkpoint_id": result.checkpoint_id,
            "forks": [s.HandleOut(fork).data for fork in result.forks],
            "failures": result.failures,
        }
        return Response(body, status=201)


class ForkDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ForkOut(forks.fork_get(actor=_actor(request), fork_id=pk)).data)


class ForkTeardown(APIView):
    def post(self, request: Request, pk: int) -> Response:
        return Response(_report(forks.fork_teardown(actor=_actor(request), fork_id=pk)))


class CheckpointListCreate(APIView):
    def get(self, request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", 50))
        except ValueError:
            limit = 50
        page = checkpoints.checkpoint_list(
            actor=_actor(request),
            bucket=request.query_params.get("bucket") or None,
            limit=limit,
            cursor=request.query_params.get("cursor") or None,
        )
        results = [s.CheckpointOut(item).data for item in page.items]
        return Response({"results": results, "next_cursor": page.next_cursor})

    def post(self, request: Request) -> Response:
        data = s.CheckpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        info = checkpoints.checkpoint_create(actor=_actor(request), **data.validated_data)
        return Response(s.CheckpointOut(info).data, status=201)


class CheckpointDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        checkpoint = checkpoints.checkpoint_get(actor=_actor(request), checkpoint_id=pk)
        return Response(s.CheckpointOut(checkpoints.checkpoint_info(checkpoint)).data)

    def delete(self, request: Request, pk: int) -> Response:
        checkpoints.checkpoint_delete(actor=_actor(request), checkpoint_id=pk)
        return Response(status=204)


class CheckpointRestore(APIView):
    def post(self, request: Request, pk: int) -> Response:
        data = s.RestoreIn(data=request.data)
        data.is_valid(raise_exception=True)
        handle = forks.checkpoint_restore(actor=_actor(request), checkpoint_id=pk, **data.validated_data)
        return Response(s.HandleOut(handle).data, status=201)


class DatasetList(APIView):
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.dataset_list(actor=_actor(request)), s.DatasetOut)


class DatasetDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.DatasetOut(selectors.dataset_get(actor=_actor(request), dataset_id=pk)).data)


class CoordinationListCreate(APIView):
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.coordination_list(actor=_actor(request)), s.CoordinationOut)

    def post(self, request: Request) -> Response:
        data = s.CoordinationIn(data=request.data)
        data.is_valid(raise_exception=True)
        actor = _actor(request)
        info = coordination.coordination_setup(actor=actor, **data.validated_data)
        row = coordination.coordination_get(actor=actor, coordination_id=info.id)
        return Response(s.CoordinationOut(row).data, status=201)


class CoordinationDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        row = coordination.coordination_get(actor=_actor(request), coordination_id=pk)
        return Response(s.CoordinationOut(row).data)


class CoordinationTeardown(APIView):
    def post(self, request: Request, pk: int) -> Response:
        return Response(
            _report(coordination.coordination_teardown(actor=_actor(request), coordination_id=pk))
        )


class DeliveryList(APIView):
    def get(self, request: Request) -> Response:
        queryset = selectors.delivery_list(actor=_actor(request)).prefetch_related("attempt_log")
        return _page(request, self, queryset, s.DeliveryOut)


class DeliveryDetail(APIView):
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.DeliveryOut(selectors.delivery_get(actor=_actor(request), delivery_id=pk)).data)
