"""Threads, messages, working memory, search and resource deletion: one view per operation."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import fields
from core.api.pagination import PAGE_PARAMETERS, page_response, paged
from memory import selectors, services
from memory.api.common import owner_for
from memory.api.serializers import MessageOut, ThreadOut, WorkingMemoryOut
from memory.config import SemanticRecallConfig


class OwnerQuery(serializers.Serializer[dict[str, Any]]):
    resourceId = fields.CharField(
        max_length=200,
        required=False,
        help_text="Act for another resource of the tenant (tenant admins only); default: you.",
    )


class ThreadListQuery(OwnerQuery):
    agentId = fields.CharField(max_length=200, required=False, help_text="Only this agent's threads.")


class WorkingMemoryQuery(OwnerQuery):
    scope = serializers.ChoiceField(choices=["resource", "thread"], default="resource")


class DeletedOut(serializers.Serializer[dict[str, Any]]):
    deletedThreads = serializers.IntegerField()


class SearchHitOut(serializers.Serializer[dict[str, Any]]):
    id = serializers.CharField()
    threadId = serializers.CharField()
    role = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    createdAt = serializers.DateTimeField()
    hit = serializers.BooleanField()


class SearchOut(serializers.Serializer[dict[str, Any]]):
    results = SearchHitOut(many=True)


class WorkingMemoryEmptyOut(serializers.Serializer[dict[str, Any]]):
    workingMemory = serializers.JSONField(allow_null=True)
    scope = serializers.CharField()
    format = serializers.CharField(allow_null=True)
    schema = serializers.JSONField(allow_null=True)
    updatedAt = serializers.DateTimeField(allow_null=True)


ThreadPage = paged(ThreadOut, "ThreadPage")
MessagePage = paged(MessageOut, "MessagePage")


class ThreadListCreateApi(APIView):
    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "ThreadCreate"

        threadId = fields.CharField(max_length=200, required=False)
        resourceId = fields.CharField(max_length=200, required=False)
        agentId = fields.CharField(max_length=200, required=False, default="")
        title = fields.CharField(max_length=300, required=False, default="", allow_blank=True)
        metadata = serializers.DictField(required=False, default=dict)

    @extend_schema(
        operation_id="memory_threads_list",
        parameters=[ThreadListQuery, *PAGE_PARAMETERS],
        responses=ThreadPage,
    )
    def get(self, request: Request) -> Response:
        query = ThreadListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        owner = owner_for(request)
        threads = selectors.thread_list(
            actor=owner.actor,
            resource_id=owner.resource_id,
            agent_id=query.validated_data.get("agentId"),
        )
        return page_response(request, self, threads, ThreadOut)

    @extend_schema(operation_id="memory_threads_create", request=InputSerializer, responses={201: ThreadOut})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        owner = owner_for(request, data.validated_data.get("resourceId"))
        thread = services.thread_create(
            tenant_id=owner.tenant_id,
            resource_id=owner.resource_id,
            owner_id=owner.actor.user_id,
            thread_id=data.validated_data.get("threadId") or uuid.uuid4().hex,
            title=data.validated_data["title"],
            metadata=data.validated_data["metadata"],
            agent_id=data.validated_data["agentId"],
        )
        return Response(ThreadOut(thread).data, status=status.HTTP_201_CREATED)


class ThreadDetailApi(APIView):
    class PatchSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "ThreadUpdate"

        title = fields.CharField(max_length=300, required=False, allow_blank=True)
        metadata = serializers.DictField(required=False)

    @extend_schema(parameters=[OwnerQuery], responses=ThreadOut)
    def get(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        thread = selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
        return Response(ThreadOut(thread).data)

    @extend_schema(parameters=[OwnerQuery], request=PatchSerializer, responses=ThreadOut)
    def patch(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        thread = selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        thread = services.thread_update(
            thread=thread,
            title=data.validated_data.get("title"),
            metadata=data.validated_data.get("metadata"),
        )
        return Response(ThreadOut(thread).data)

    @extend_schema(parameters=[OwnerQuery], responses={204: None})
    def delete(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
        services.thread_delete(tenant_id=owner.tenant_id, thread_id=thread_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadMessagesApi(APIView):
    @extend_schema(parameters=[OwnerQuery, *PAGE_PARAMETERS], responses=MessagePage)
    def get(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        thread = selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
        return page_response(request, self, selectors.message_list(thread=thread), MessageOut)


class WorkingMemoryApi(APIView):
    """Mastra's flat shape: `{workingMemory, format, scope, schema, updatedAt}`; `content` is accepted as an alias."""

    class InputSerializer(serializers.Serializer[dict[str, Any]]):
        class Meta:
            ref_name = "WorkingMemoryUpdate"

        workingMemory = serializers.JSONField(required=False)
        content = serializers.JSONField(required=False)
        scope = serializers.ChoiceField(choices=["resource", "thread"], default="resource")

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            value = attrs.get("workingMemory", attrs.get("content"))
            if not isinstance(value, str | dict):
                raise serializers.ValidationError({"workingMemory": ["Send markdown text or a JSON object."]})
            attrs["workingMemory"] = value
            return attrs

    @extend_schema(
        operation_id="memory_working_memory_retrieve",
        parameters=[WorkingMemoryQuery],
        responses=WorkingMemoryEmptyOut,
    )
    def get(self, request: Request, thread_id: str) -> Response:
        query = WorkingMemoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        owner = owner_for(request)
        selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
        scope = query.validated_data["scope"]
        key = thread_id if scope == "thread" else owner.resource_id
        row = selectors.working_memory_find(tenant_id=owner.tenant_id, scope=scope, key=key)
        if row is None:
            return Response(
                {"workingMemory": None, "scope": scope, "format": None, "schema": None, "updatedAt": None}
            )
        return Response(WorkingMemoryOut(row).data)

    @extend_schema(
        operation_id="memory_working_memory_update",
        parameters=[OwnerQuery],
        request=InputSerializer,
        responses=WorkingMemoryOut,
    )
    def post(self, request: Request, thread_id: str) -> Response:
        owner = owner_for(request)
        selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
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
            owner_id=owner.actor.user_id,
        )
        return Response(WorkingMemoryOut(row).data)


class SearchApi(APIView):
    """Semantic search over the caller's messages (`searchQuery`; scope `resource` or, with threadId, `thread`)."""

    class QuerySerializer(OwnerQuery):
        class Meta:
            ref_name = "MemorySearchQuery"

        searchQuery = fields.CharField(max_length=2000)
        threadId = fields.CharField(max_length=200, required=False)
        topK = fields.IntegerField(min_value=1, max_value=50, default=5)
        messageRange = fields.IntegerField(min_value=0, max_value=10, default=0)

    @extend_schema(operation_id="memory_search", parameters=[QuerySerializer], responses=SearchOut)
    def get(self, request: Request) -> Response:
        owner = owner_for(request)
        data = self.QuerySerializer(data=request.query_params)
        data.is_valid(raise_exception=True)
        thread_id = data.validated_data.get("threadId")
        if thread_id:
            selectors.thread_for(actor=owner.actor, thread_id=thread_id, resource_id=owner.resource_id)
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
    """DELETE every thread, message, embedding and working memory of a resource (yours, or any
    of the tenant's as a tenant admin)."""

    @extend_schema(responses={200: DeletedOut})
    def delete(self, request: Request, resource_id: str) -> Response:
        owner = owner_for(request, resource_id)
        deleted = services.resource_data_delete(actor=owner.actor, resource_id=owner.resource_id)
        return Response({"deletedThreads": deleted})
