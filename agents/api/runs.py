"""Deciding, resuming, listing and cancelling stored runs over REST, in Mastra's shapes.

Thin: validate, call one service (`agents.runs.services`) or selector, serialise. The
streamed variants answer server-sent events in the AI SDK UI message stream protocol,
like the chat route; a decision that cannot be taken (404, 409, 400) is answered as JSON
before any event.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from adrf.views import APIView as AsyncAPIView
from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.api.serializers import (
    GenerateOutputSerializer,
    ResumeInputSerializer,
    RunOutputSerializer,
    SuspendedRunOutputSerializer,
    SuspendedRunsQuerySerializer,
    ToolCallDecisionInputSerializer,
)
from agents.runs import selectors, services
from agents.runtime.events import Event
from core.access import actor_for_user
from core.db import releasing

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "x-vercel-ai-ui-message-stream": "v1"}


async def _sse(events: AsyncIterator[Event]) -> AsyncIterator[bytes]:
    async for event in events:
        yield (
            b"data: "
            + json.dumps(event.to_chunk(), separators=(",", ":"), ensure_ascii=False).encode()
            + b"\n\n"
        )
    yield b"data: [DONE]\n\n"


def _sse_response(decision: services.Decision) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        _sse(services.run_continue_events(decision=decision)), content_type="text/event-stream"
    )
    for name, value in {**_SSE_HEADERS, "X-Run-Id": str(decision.run_id)}.items():
        response[name] = value
    return response


def _decide(request: Request, agent_id: str, *, approve: bool) -> services.Decision:
    serializer = ToolCallDecisionInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return services.tool_call_decide(
        actor=actor_for_user(request.user),
        agent_id=agent_id,
        run_id=data["runId"],
        tool_call_id=data["toolCallId"],
        approve=approve,
        reason=data["reason"],
    )


def _resume(request: Request, agent_id: str) -> services.Decision:
    serializer = ResumeInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return services.tool_call_resume(
        actor=actor_for_user(request.user),
        agent_id=agent_id,
        run_id=data["runId"],
        tool_call_id=data["toolCallId"],
        resume_data=data["resumeData"],
    )


_SSE = {(200, "text/event-stream"): str}


class ApproveToolCallApi(APIView):
    """Approve a waiting tool call; the run continues here and streams (SSE) until it ends or waits again."""

    @extend_schema(
        operation_id="agents_approve_tool_call", request=ToolCallDecisionInputSerializer, responses=_SSE
    )
    def post(self, request: Request, agent_id: str) -> StreamingHttpResponse:
        return _sse_response(_decide(request, agent_id, approve=True))


class DeclineToolCallApi(APIView):
    """Decline a waiting tool call: the model gets a refusal with the reason and the run continues (SSE)."""

    @extend_schema(
        operation_id="agents_decline_tool_call", request=ToolCallDecisionInputSerializer, responses=_SSE
    )
    def post(self, request: Request, agent_id: str) -> StreamingHttpResponse:
        return _sse_response(_decide(request, agent_id, approve=False))


class ResumeStreamApi(APIView):
    """Give a suspended tool call its resume data; the tool is called again and the run streams (SSE)."""

    @extend_schema(operation_id="agents_resume_stream", request=ResumeInputSerializer, responses=_SSE)
    def post(self, request: Request, agent_id: str) -> StreamingHttpResponse:
        return _sse_response(_resume(request, agent_id))


class _ContinueGenerateApi(AsyncAPIView):
    async def _answer(self, decision: services.Decision) -> Response:
        result = await services.run_continue_result(decision=decision)
        return Response(result.as_dict())


class ApproveToolCallGenerateApi(_ContinueGenerateApi):
    """Approve a waiting tool call; answers the continued run as `generate` does (JSON)."""

    @extend_schema(
        operation_id="agents_approve_tool_call_generate",
        request=ToolCallDecisionInputSerializer,
        responses=GenerateOutputSerializer,
    )
    async def post(self, request: Request, agent_id: str) -> Response:
        decision = await sync_to_async(releasing(_decide))(request, agent_id, approve=True)
        return await self._answer(decision)


class DeclineToolCallGenerateApi(_ContinueGenerateApi):
    """Decline a waiting tool call; answers the continued run as `generate` does (JSON)."""

    @extend_schema(
        operation_id="agents_decline_tool_call_generate",
        request=ToolCallDecisionInputSerializer,
        responses=GenerateOutputSerializer,
    )
    async def post(self, request: Request, agent_id: str) -> Response:
        decision = await sync_to_async(releasing(_decide))(request, agent_id, approve=False)
        return await self._answer(decision)


class ResumeGenerateApi(_ContinueGenerateApi):
    """Give a suspended tool call its resume data; answers the continued run as `generate` does (JSON)."""

    @extend_schema(
        operation_id="agents_resume_generate",
        request=ResumeInputSerializer,
        responses=GenerateOutputSerializer,
    )
    async def post(self, request: Request, agent_id: str) -> Response:
        decision = await sync_to_async(releasing(_resume))(request, agent_id)
        return await self._answer(decision)


class SuspendedRunListApi(APIView):
    """The caller's suspended runs of this agent (a tenant admin: the tenant's), with what each waits on."""

    @extend_schema(
        operation_id="agents_suspended_runs",
        parameters=[
            OpenApiParameter("threadId", str, OpenApiParameter.QUERY, required=False),
            OpenApiParameter("resourceId", str, OpenApiParameter.QUERY, required=False),
        ],
        responses=SuspendedRunOutputSerializer(many=True),
    )
    def get(self, request: Request, agent_id: str) -> Response:
        query = SuspendedRunsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = selectors.runs_suspended(
            actor=actor_for_user(request.user),
            agent_id=agent_id,
            thread_id=query.validated_data.get("threadId"),
            resource_id=query.validated_data.get("resourceId"),
        )
        body: Any = [
            {
                "runId": run.id,
                "agentId": run.agent.slug,
                "threadId": run.thread_id,
                "resourceId": run.resource_id,
                "status": run.status,
                "createdAt": run.created_at,
                "pendingToolCalls": [selectors.gate_dict(g) for g in run.gates.all() if g.is_pending],
            }
            for run in runs[:200]
        ]
        return Response(SuspendedRunOutputSerializer(body, many=True).data)


class RunCancelApi(APIView):
    """Cancel a run: a suspended one ends now (its waiting calls cancelled); 409 once it has ended."""

    @extend_schema(operation_id="runs_cancel_create", request=None, responses=RunOutputSerializer)
    def post(self, request: Request, run_id: uuid.UUID) -> Response:
        run = services.run_cancel(actor=actor_for_user(request.user), run_id=run_id)
        return Response(RunOutputSerializer(run).data)
