"""Threads, messages, working memory, search and resource deletion: one view per operation."""

from __future__ import annotations

import uuid
from typing import Any

from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from memory import selectors, services
from memory.api.common import owner_for
from memory.api.serializers import MessageOut, ThreadOut, WorkingMemoryOut
from memory.config import SemanticRecallConfig


class ThreadListCreateApi(APIView):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        threadId = serializers.CharField(max_length=200, required=False)
        resourceId = serializers.CharField(max_length=200, required=False)
        agentId = serializers.CharField(max_length=200, required=False, default="")
        title = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
        metadata = serializers.DictField(required=False, default=dict)

    def get(self, request: Request) -> Response:
        owner = owner_for(request)
        threads = selectors.thread_list(
            tenant_id=owner.tenant_id,
            resource_id=owner.resource_id,
            agent_id=request.query_params.get("agentId"),
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(threads, request, view=self)
        return paginator.get_paginated_response(ThreadOut(page, many=True).data)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = owner_for(request, data.validated_data.get("resourceId"))
        thread = services.thread_create(
            tenant_id=owner.tenant_id,
            resource_id=owner.resource_id,
            thread_id=data.validated_data.get("threadId") or uuid.uuid4().hex,
            title=data.validated_data["title"],
            metadata=data.validated_data["metadata"],
            agent_id=data.validated_data["agentId"],
        )
        return Response(ThreadOut(thread).data, status=status.HTTP_201_CREATED)


class ThreadDetailApi(APIView):
    class PatchSerializer(serializers.Serializer[dict[str, Any]]):
        title = serializers.CharField(max_length=300, required=False, allow_blank=True)
        metadata = serializers.DictField(required=False)

    def get(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        thread = selectors.thread_get(
            tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id
        )
        return Response(ThreadOut(thread).data)

    def patch(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        thread = selectors.thread_get(
            tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id
        )
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thread = services.thread_update(
            thread=thread,
            title=data.validated_data.get("title"),
            metadata=data.validated_data.get("metadata"),
        )
        return Response(ThreadOut(thread).data)

    def delete(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        selectors.thread_get(tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id)
        services.thread_delete(tenant_id=owner.tenant_id, thread_id=thread_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadMessagesApi(APIView):
    def get(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        thread = selectors.thread_get(
            tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id
        )
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.message_list(thread=thread), request, view=self)
        return paginator.get_paginated_response(MessageOut(page, many=True).data)


class WorkingMemoryApi(APIView):
    """Mastra's flat shape: `{workingMemory, format, scope, schema, updatedAt}`; `content` is accepted as an alias."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        workingMemory = serializers.JSONField(required=False)
        content = serializers.JSONField(required=False)
        scope = serializers.ChoiceField(choices=["resource", "thread"], default="resource")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            value = attrs.get("workingMemory", attrs.get("content"))
            if not isinstance(value, str | dict):
                raise serializers.ValidationError({"workingMemory": ["Send markdown text or a JSON object."]})
            attrs["workingMemory"] = value
            return attrs

    def get(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        selectors.thread_get(tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id)
        scope = request.query_params.get("scope", "resource")
        key = thread_id if scope == "thread" else owner.resource_id
        row = selectors.working_memory_find(tenant_id=owner.tenant_id, scope=scope, key=key)
        if row is None:
            return Response(
                {"workingMemory": None, "scope": scope, "format": None, "schema": None, "updatedAt": None}
            )
        return Response(WorkingMemoryOut(row).data)

    def post(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        selectors.thread_get(tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        scope = data.validated_data["scope"]
        key = thread_id if scope == "thread" else owner.resource_id
        existing = selectors.working_memory_find(tenant_id=owner.tenant_id, scope=scope, key=key)
        row = services.working_memory_update(
            tenant_id=owner.tenant_id,
            thread_id=thread_id,
            resource_id=owner.resource_id,
            config=services.working_memory_config_for(row=existing, scope=scope),
            content=data.validated_data["workingMemory"],
        )
        return Response(WorkingMemoryOut(row).data)


class SearchApi(APIView):
    """Semantic search over the caller's messages (`searchQuery`; scope `resource` or, with threadId, `thread`)."""

    class QuerySerializer(serializers.Serializer[dict[str, Any]]):
        searchQuery = serializers.CharField(max_length=2000)
        threadId = serializers.CharField(max_length=200, required=False)
        topK = serializers.IntegerField(min_value=1, max_value=50, default=5)
        messageRange = serializers.IntegerField(min_value=0, max_value=10, default=0)

    def get(self, request: Request) -> Response:
        owner = owner_for(request)
        data = self.QuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        thread_id = data.validated_data.get("threadId")
        if thread_id:
            selectors.thread_get(
                tenant_id=owner.tenant_id, thread_id=thread_id, resource_id=owner.resource_id
            )
        config = SemanticRecallConfig(
            top_k=data.validated_data["topK"],
            message_range=data.validated_data["messageRange"],
            scope="thread" if thread_id else "resource",
        )
        found = services.recall(
            tenant_id=owner.tenant_id,
            thread_id=thread_id or "",
            resource_id=owner.resource_id,
            config=config,
            query=data.validated_data["searchQuery"],
            exclude=set(),
        )
        results = [
            {
                "id": m.id,
                "threadId": m.thread_id,
                "role": m.role,
                "text": m.text,
                "createdAt": m.created_at,
                "hit": m.hit,
            }
            for m in found
        ]
        return Response({"results": results})


class ResourceDataApi(APIView):
    """DELETE every thread, message, embedding and working memory of a resource (yours, or any as staff)."""

    def delete(self, request: Request, resource_id: str) -> Response:
        owner = owner_for(request, resource_id)
        deleted = services.resource_data_delete(tenant_id=owner.tenant_id, resource_id=owner.resource_id)
        return Response({"deletedThreads": deleted})
