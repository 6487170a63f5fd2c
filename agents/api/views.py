"""Agents, tools, runs and models over REST. Thin: validate, call one service or selector, serialise."""

from __future__ import annotations

import uuid
from typing import Any

from adrf.views import APIView as AsyncAPIView
from asgiref.sync import sync_to_async
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents import selectors
from agents.api.model_choice import MODEL_PARAMETERS, idempotency_key_header, requested_model
from agents.api.serializers import (
    AgentOutputSerializer,
    GenerateInputSerializer,
    GenerateOutputSerializer,
    ModelListOutputSerializer,
    RunOutputSerializer,
    ToolExecuteInputSerializer,
    ToolExecuteOutputSerializer,
    ToolOutputSerializer,
)
from agents.providers.catalog import models_catalog
from agents.providers.resolution import configured_ids
from agents.runtime import MemoryOptions, RunOptions, agenerate
from agents.tools.execute import tool_execute, tool_execute_check
from core.access import actor_for_user
from core.context import RequestContext
from core.db import releasing
from core.errors import NotFound
from core.tenancy import tenant_for_user
from memory.services import memory_resource_for


def caller_context(request: Request, values: dict[str, Any] | None = None) -> RequestContext:
    """Tenant and user from authentication; `values` are the client's (validated by the runtime)."""
    tenant = tenant_for_user(request.user)
    return RequestContext(tenant_id=tenant.pk, user_id=request.user.pk, values=values or {})


class AgentListApi(APIView):
    @extend_schema(operation_id="agents_list", responses=AgentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        agents = selectors.agent_list(tenant_id=tenant_for_user(request.user).pk)
        context = {"switched_off": selectors.disabled_tool_ids()}  # read once for the whole list
        return Response(AgentOutputSerializer(agents, many=True, context=context).data)


class AgentDetailApi(APIView):
    @extend_schema(responses=AgentOutputSerializer)
    def get(self, request: Request, agent_id: str) -> Response:
        agent = selectors.agent_get(slug=agent_id, tenant_id=tenant_for_user(request.user).pk)
        return Response(AgentOutputSerializer(agent).data)


def run_options(data: dict[str, Any], request: Request) -> RunOptions:
    return RunOptions(
        max_steps=data.get("maxSteps"),
        model=requested_model(request, data),
        tool_choice=data.get("toolChoice"),
        output_schema=(data.get("structuredOutput") or {}).get("schema"),
        idempotency_key=data.get("idempotencyKey") or idempotency_key_header(request),
        require_tool_approval=bool(data.get("requireToolApproval")),
        auto_resume_suspended_tools=data.get("autoResumeSuspendedTools"),
    )


class AgentGenerateApi(AsyncAPIView):
    """Run the agent to a final answer. Async, so a slow model holds no worker thread."""

    @extend_schema(
        request=GenerateInputSerializer,
        responses=GenerateOutputSerializer,
        parameters=[
            OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False),
            *MODEL_PARAMETERS,
        ],
    )
    async def post(self, request: Request, agent_id: str) -> Response:
        serializer = GenerateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # `releasing`: the request's thread hands its connection back to the pool before the
        # run takes its own, so no request holds one connection while waiting for another.
        context = await sync_to_async(releasing(caller_context))(request, data.get("requestContext"))
        memory = None
        if data.get("memory"):
            actor = await sync_to_async(releasing(actor_for_user))(request.user)
            try:  # the owner model decides (docs/security.md): the caller's own, any for a tenant admin
                resource = memory_resource_for(actor=actor, requested=data["memory"].get("resource"))
            except NotFound as exc:  # another member's resource answers as one that does not exist
                raise NotFound(exc.message, details={"memory.resource": ["not found"]}) from exc
            memory = MemoryOptions(thread_id=data["memory"]["thread"], resource_id=resource)
        result = await agenerate(
            agent_id,
            context=context,
            prompt=data.get("prompt"),
            messages=data.get("messages"),
            memory=memory,
            options=run_options(data, request),
        )
        return Response(result.as_dict())


class ToolListApi(APIView):
    @extend_schema(operation_id="tools_list", responses=ToolOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(ToolOutputSerializer(selectors.tool_list(), many=True).data)


class ToolExecuteApi(APIView):
    """Run one tool with validated input (staff, or tools without side effects)."""

    @extend_schema(request=ToolExecuteInputSerializer, responses=ToolExecuteOutputSerializer)
    def post(self, request: Request, tool_id: str) -> Response:
        tool_execute_check(tool_id=tool_id, is_staff=bool(request.user.is_staff))
        serializer = ToolExecuteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        context = caller_context(request, {})
        return Response(
            tool_execute(tool_id=tool_id, data=serializer.validated_data["data"], context=context)
        )


class RunDetailApi(APIView):
    @extend_schema(responses=RunOutputSerializer)
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        run = selectors.run_get(run_id=run_id, actor=actor_for_user(request.user))
        return Response(RunOutputSerializer(run).data)


class ModelListApi(APIView):
    """Configured models (the agents' and the default) and what each provider reports, each with its tier."""

    @extend_schema(operation_id="models_list", responses=ModelListOutputSerializer)
    def get(self, request: Request) -> Response:
        agents = selectors.agent_list(tenant_id=tenant_for_user(request.user).pk)
        configured = [settings.DEFAULT_MODEL]
        for agent in agents.only("model", "fallback_models"):
            configured += [agent.model, *(agent.fallback_models or [])]
        return Response(models_catalog(configured=configured_ids(configured)))
