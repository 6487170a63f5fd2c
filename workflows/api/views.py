"""The workflow API in Mastra's shapes. Thin: validate, call one service or selector, serialise.
Runs are reached through the owner model (`workflows.selectors`): another owner's run is a 404."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Actor, actor_for_user
from core.api.pagination import LimitOffsetPagination, PageQuery
from core.errors import ValidationFailed
from workflows import selectors, services
from workflows.api import serializers as s
from workflows.api.stream import offset_of, sse_events
from workflows.models import WorkflowRun
from workflows.registry import registry

RUN_ID = OpenApiParameter(
    "runId", str, description="The run's id (a UUID); from create-run, or new if omitted."
)
RUN_ID_REQUIRED = OpenApiParameter("runId", str, required=True, description="The run's id (a UUID).")
OFFSET = OpenApiParameter(
    "offset", int, description="Replay events numbered above this (the `Last-Event-ID` header does the same)."
)
SSE = {(200, "text/event-stream"): str}


def _actor(request: Request) -> Actor:
    return actor_for_user(request.user)


def _valid(serializer_class: type[Any], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated


def _run_id(request: Request, *, required: bool) -> uuid.UUID | None:
    raw = request.query_params.get("runId")
    if raw is None:
        if required:
            raise ValidationFailed(
                "runId is required.", details={"runId": ["This query parameter is required."]}
            )
        return None
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise ValidationFailed(
            "runId must be a UUID.", details={"runId": ["Must be a valid UUID."]}
        ) from None


def _own_run(request: Request, workflow_id: str, *, required: bool = True) -> WorkflowRun | None:
    run_id = _run_id(request, required=required)
    if run_id is None:
        return None
    return selectors.run_get(actor=_actor(request), run_id=run_id, workflow_id=workflow_id)


def _detail(run: WorkflowRun) -> dict[str, Any]:
    run.steps_view = selectors.run_steps(run)  # type: ignore[attr-defined]
    run.suspended_view = [  # type: ignore[attr-defined]
        {"path": p, "stepId": sid, "payload": payload}
        for p, sid, payload in run.suspensions.filter(generation=run.generation, status="open").values_list(
            "path", "step_id", "payload"
        )
    ]
    data: dict[str, Any] = s.WorkflowRunDetailOutputSerializer(run).data
    return data


def _describe(workflow_id: str) -> dict[str, Any]:
    workflow = selectors.workflow_get(workflow_id=workflow_id)
    return {
        **workflow.describe(),
        "enabled": services.workflow_enabled(workflow.id),
        "versions": [w.version for w in registry.all_versions() if w.id == workflow.id],
    }


class WorkflowListApi(APIView):
    @extend_schema(responses=s.WorkflowOutputSerializer(many=True), summary="Registered workflows, by id")
    def get(self, request: Request) -> Response:
        _actor(request)
        return Response({w.id: _describe(w.id) for w in selectors.workflow_list()})


class WorkflowDetailApi(APIView):
    @extend_schema(responses=s.WorkflowOutputSerializer)
    def get(self, request: Request, workflow_id: str) -> Response:
        _actor(request)
        return Response(_describe(workflow_id))


class CreateRunApi(APIView):
    @extend_schema(
        parameters=[RUN_ID],
        request=s.WorkflowCreateRunInputSerializer,
        responses=s.WorkflowRunIdOutputSerializer,
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        data = _valid(s.WorkflowCreateRunInputSerializer, request.data)
        run = services.run_create(
            actor=_actor(request),
            workflow_id=workflow_id,
            run_id=_run_id(request, required=False),
            resource_id=data["resourceId"],
            thread_id=data["threadId"],
        )
        return Response({"runId": str(run.pk)})


def _start(request: Request, workflow_id: str) -> WorkflowRun:
    data = _valid(s.WorkflowStartInputSerializer, request.data)
    actor = _actor(request)
    run_id = _run_id(request, required=False)
    existing = None
    if run_id is not None and WorkflowRun.objects.filter(pk=run_id).exists():
        existing = _own_run(request, workflow_id)  # from create-run; another owner's is a 404
    return services.run_start(
        actor=actor,
        workflow_id=workflow_id,
        input_data=data["inputData"],
        run=existing,
        run_id=run_id,
        request_context=data["requestContext"],
        resource_id=data["resourceId"],
        thread_id=data["threadId"],
        concurrency_key=data["concurrencyKey"],
    )


class StartApi(APIView):
    @extend_schema(
        parameters=[RUN_ID],
        request=s.WorkflowStartInputSerializer,
        responses=s.WorkflowMessageOutputSerializer,
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        run = _start(request, workflow_id)
        return Response({"message": "Workflow run started", "runId": str(run.pk)})


class StartAsyncApi(APIView):
    @extend_schema(
        parameters=[RUN_ID],
        request=s.WorkflowStartInputSerializer,
        responses=s.WorkflowRunDetailOutputSerializer,
        description="Starts the run and answers when it stops (finished, failed, cancelled or suspended), "
        "or after WORKFLOW_SYNC_WAIT_S with the run as it stands.",
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        run = services.run_wait(run=_start(request, workflow_id))
        return Response(_detail(run))


class StreamApi(APIView):
    @extend_schema(parameters=[RUN_ID], request=s.WorkflowStartInputSerializer, responses=SSE)
    def post(self, request: Request, workflow_id: str) -> StreamingHttpResponse:
        run = _start(request, workflow_id)
        return sse_events(run.pk, offset=0)


class WatchApi(APIView):
    @extend_schema(parameters=[RUN_ID_REQUIRED, OFFSET], responses=SSE)
    def get(self, request: Request, workflow_id: str) -> StreamingHttpResponse:
        run = _own_run(request, workflow_id)
        assert run is not None  # noqa: S101 - required above
        return sse_events(run.pk, offset=offset_of(request))


class ResumeApi(APIView):
    @extend_schema(
        parameters=[RUN_ID_REQUIRED],
        request=s.WorkflowResumeInputSerializer,
        responses=s.WorkflowMessageOutputSerializer,
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        data = _valid(s.WorkflowResumeInputSerializer, request.data)
        run = _own_run(request, workflow_id)
        assert run is not None  # noqa: S101 - required above
        services.run_resume(actor=_actor(request), run=run, step=data["step"], resume_data=data["resumeData"])
        return Response({"message": "Workflow run resumed", "runId": str(run.pk)})


class ResumeAsyncApi(APIView):
    @extend_schema(
        parameters=[RUN_ID_REQUIRED],
        request=s.WorkflowResumeInputSerializer,
        responses=s.WorkflowRunDetailOutputSerializer,
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        data = _valid(s.WorkflowResumeInputSerializer, request.data)
        run = _own_run(request, workflow_id)
        assert run is not None  # noqa: S101 - required above
        services.run_resume(actor=_actor(request), run=run, step=data["step"], resume_data=data["resumeData"])
        return Response(_detail(services.run_wait(run=run)))


class ResumeAllApi(APIView):
    @extend_schema(
        parameters=[RUN_ID_REQUIRED],
        request=s.WorkflowResumeAllInputSerializer,
        responses=s.WorkflowMessageOutputSerializer,
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        data = _valid(s.WorkflowResumeAllInputSerializer, request.data)
        run = _own_run(request, workflow_id)
        assert run is not None  # noqa: S101 - required above
        services.run_resume_all(actor=_actor(request), run=run, resume_data=data["resumeData"])
        return Response({"message": "Every open suspension resumed", "runId": str(run.pk)})


class RestartApi(APIView):
    @extend_schema(
        parameters=[RUN_ID_REQUIRED],
        request=s.WorkflowRestartInputSerializer,
        responses=s.WorkflowMessageOutputSerializer,
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        data = _valid(s.WorkflowRestartInputSerializer, request.data)
        run = _own_run(request, workflow_id)
        assert run is not None  # noqa: S101 - required above
        services.run_restart(actor=_actor(request), run=run, step=data["step"])
        return Response({"message": "Workflow run restarted", "runId": str(run.pk)})


class RunListApi(APIView):
    @extend_schema(
        operation_id="workflows_runs_list",
        parameters=[s.WorkflowRunListQuerySerializer, PageQuery],
        responses=s.WorkflowRunListOutputSerializer,
    )
    def get(self, request: Request, workflow_id: str) -> Response:
        query = _valid(s.WorkflowRunListQuerySerializer, request.query_params)
        selectors.workflow_get(workflow_id=workflow_id)
        runs = selectors.run_list(
            actor=_actor(request),
            workflow_id=workflow_id,
            status=query.get("status"),
            resource_id=query.get("resourceId"),
            from_date=query.get("fromDate"),
            to_date=query.get("toDate"),
        )
        paginator = LimitOffsetPagination()
        limit = paginator.get_limit(request) or 100
        offset = paginator.get_offset(request)
        page = runs[offset : offset + limit]
        return Response({"runs": s.WorkflowRunOutputSerializer(page, many=True).data, "total": runs.count()})


class RunDetailApi(APIView):
    @extend_schema(responses=s.WorkflowRunDetailOutputSerializer)
    def get(self, request: Request, workflow_id: str, run_id: uuid.UUID) -> Response:
        run = selectors.run_get(actor=_actor(request), run_id=run_id, workflow_id=workflow_id)
        return Response(_detail(run))


class RunCancelApi(APIView):
    @extend_schema(request=None, responses=s.WorkflowMessageOutputSerializer)
    def post(self, request: Request, workflow_id: str, run_id: uuid.UUID) -> Response:
        actor = _actor(request)
        run = selectors.run_get(actor=actor, run_id=run_id, workflow_id=workflow_id)
        services.run_cancel(actor=actor, run=run)
        return Response({"message": "Workflow run cancelled", "runId": str(run.pk)})
