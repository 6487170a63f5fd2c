"""Thin views: validate, call one service or selector, serialise. Who may reach what is decided
by the services and selectors (core.access), never here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Actor, actor_for_user
from core.api.pagination import PAGE_PARAMETERS, page_response, paged
from storage_kit import selectors
from storage_kit.api import serializers as s
from storage_kit.services import checkpoints, coordination, forks, workspaces


def _actor(request: Request) -> Actor:
    return actor_for_user(request.user)


def _report(report: Any) -> dict[str, Any]:
    return {"ok": report.ok, "resources": report.resources, "errors": report.errors}


WorkspacePage = paged(s.WorkspaceOut, "WorkspacePage")
ForkPage = paged(s.ForkOut, "ForkPage")
DatasetPage = paged(s.DatasetOut, "DatasetPage")
CoordinationPage = paged(s.CoordinationOut, "CoordinationPage")
DeliveryPage = paged(s.DeliveryOut, "DeliveryPage")


def _page(request: Request, view: APIView, queryset: Any, serializer: Any) -> Response:
    return page_response(request, view, queryset, serializer)


class WorkspaceListCreate(APIView):
    @extend_schema(
        operation_id="storage_workspaces_list", parameters=PAGE_PARAMETERS, responses=WorkspacePage
    )
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.workspace_list(actor=_actor(request)), s.WorkspaceOut)

    @extend_schema(
        operation_id="storage_workspaces_create", request=s.WorkspaceIn, responses={201: s.HandleOut}
    )
    def post(self, request: Request) -> Response:
        data = s.WorkspaceIn(data=request.data)
        data.is_valid(raise_exception=True)
        handle = workspaces.workspace_create(actor=_actor(request), **data.validated_data)
        return Response(s.HandleOut(handle).data, status=201)


class WorkspaceDetail(APIView):
    @extend_schema(responses=s.WorkspaceOut)
    def get(self, request: Request, pk: int) -> Response:
        workspace = workspaces.workspace_get(actor=_actor(request), workspace_id=pk)
        return Response(s.WorkspaceOut(workspace).data)


class WorkspaceTeardown(APIView):
    @extend_schema(request=None, responses=s.ReportOut)
    def post(self, request: Request, pk: int) -> Response:
        return Response(_report(workspaces.workspace_teardown(actor=_actor(request), workspace_id=pk)))


class ForkListCreate(APIView):
    @extend_schema(operation_id="storage_forks_list", parameters=PAGE_PARAMETERS, responses=ForkPage)
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.fork_list(actor=_actor(request)), s.ForkOut)

    @extend_schema(operation_id="storage_forks_create", request=s.ForksIn, responses={201: s.ForksOut})
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
    @extend_schema(responses=s.ForkOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ForkOut(forks.fork_get(actor=_actor(request), fork_id=pk)).data)


class ForkTeardown(APIView):
    @extend_schema(request=None, responses=s.ReportOut)
    def post(self, request: Request, pk: int) -> Response:
        return Response(_report(forks.fork_teardown(actor=_actor(request), fork_id=pk)))


class CheckpointListCreate(APIView):
    @extend_schema(
        operation_id="storage_checkpoints_list",
        parameters=[s.CheckpointListQuery],
        responses=s.CheckpointPage,
    )
    def get(self, request: Request) -> Response:
        query = s.CheckpointListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = checkpoints.checkpoint_list(
            actor=_actor(request),
            bucket=query.validated_data.get("bucket") or None,
            limit=query.validated_data["limit"],
            cursor=query.validated_data.get("cursor") or None,
        )
        results = [s.CheckpointOut(item).data for item in page.items]
        return Response({"results": results, "next_cursor": page.next_cursor})

    @extend_schema(
        operation_id="storage_checkpoints_create", request=s.CheckpointIn, responses={201: s.CheckpointOut}
    )
    def post(self, request: Request) -> Response:
        data = s.CheckpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        info = checkpoints.checkpoint_create(actor=_actor(request), **data.validated_data)
        return Response(s.CheckpointOut(info).data, status=201)


class CheckpointDetail(APIView):
    @extend_schema(responses=s.CheckpointOut)
    def get(self, request: Request, pk: int) -> Response:
        checkpoint = checkpoints.checkpoint_get(actor=_actor(request), checkpoint_id=pk)
        return Response(s.CheckpointOut(checkpoints.checkpoint_info(checkpoint)).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        checkpoints.checkpoint_delete(actor=_actor(request), checkpoint_id=pk)
        return Response(status=204)


class CheckpointRestore(APIView):
    @extend_schema(request=s.RestoreIn, responses={201: s.HandleOut})
    def post(self, request: Request, pk: int) -> Response:
        data = s.RestoreIn(data=request.data)
        data.is_valid(raise_exception=True)
        handle = forks.checkpoint_restore(actor=_actor(request), checkpoint_id=pk, **data.validated_data)
        return Response(s.HandleOut(handle).data, status=201)


class DatasetList(APIView):
    @extend_schema(operation_id="storage_datasets_list", parameters=PAGE_PARAMETERS, responses=DatasetPage)
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.dataset_list(actor=_actor(request)), s.DatasetOut)


class DatasetDetail(APIView):
    @extend_schema(responses=s.DatasetOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.DatasetOut(selectors.dataset_get(actor=_actor(request), dataset_id=pk)).data)


class CoordinationListCreate(APIView):
    @extend_schema(
        operation_id="storage_coordinations_list", parameters=PAGE_PARAMETERS, responses=CoordinationPage
    )
    def get(self, request: Request) -> Response:
        return _page(request, self, selectors.coordination_list(actor=_actor(request)), s.CoordinationOut)

    @extend_schema(
        operation_id="storage_coordinations_create",
        request=s.CoordinationIn,
        responses={201: s.CoordinationOut},
    )
    def post(self, request: Request) -> Response:
        data = s.CoordinationIn(data=request.data)
        data.is_valid(raise_exception=True)
        actor = _actor(request)
        info = coordination.coordination_setup(actor=actor, **data.validated_data)
        row = coordination.coordination_get(actor=actor, coordination_id=info.id)
        return Response(s.CoordinationOut(row).data, status=201)


class CoordinationDetail(APIView):
    @extend_schema(responses=s.CoordinationOut)
    def get(self, request: Request, pk: int) -> Response:
        row = coordination.coordination_get(actor=_actor(request), coordination_id=pk)
        return Response(s.CoordinationOut(row).data)


class CoordinationTeardown(APIView):
    @extend_schema(request=None, responses=s.ReportOut)
    def post(self, request: Request, pk: int) -> Response:
        return Response(
            _report(coordination.coordination_teardown(actor=_actor(request), coordination_id=pk))
        )


class DeliveryList(APIView):
    @extend_schema(operation_id="storage_deliveries_list", parameters=PAGE_PARAMETERS, responses=DeliveryPage)
    def get(self, request: Request) -> Response:
        queryset = selectors.delivery_list(actor=_actor(request)).prefetch_related("attempt_log")
        return _page(request, self, queryset, s.DeliveryOut)


class DeliveryDetail(APIView):
    @extend_schema(responses=s.DeliveryOut)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.DeliveryOut(selectors.delivery_get(actor=_actor(request), delivery_id=pk)).data)
