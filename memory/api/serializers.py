"""Mastra-shaped (camelCase) representations."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from memory.models import KnowledgeDocument, Message, Thread, WorkingMemory


class ThreadOut(serializers.ModelSerializer[Thread]):
    resourceId = serializers.CharField(source="resource_id")
    agentId = serializers.CharField(source="agent_id")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = Thread
        fields = ["id", "resourceId", "agentId", "title", "metadata", "createdAt", "updatedAt"]


class MessageOut(serializers.ModelSerializer[Message]):
    threadId = serializers.CharField(source="thread_id")
    resourceId = serializers.CharField(source="resource_id")
    runId = serializers.CharField(source="run_id")
    tokenCount = serializers.IntegerField(source="token_count")
    createdAt = serializers.DateTimeField(source="created_at")
    clientId = serializers.CharField(source="client_id")

    class Meta:
        model = Message
        fields = [
            "id",
            "threadId",
            "resourceId",
            "role",
            "parts",
            "status",
            "runId",
            "metadata",
            "tokenCount",
            "createdAt",
            "clientId",
        ]


class WorkingMemoryOut(serializers.ModelSerializer[WorkingMemory]):
    workingMemory = serializers.SerializerMethodField()
    resourceId = serializers.CharField(source="resource_id")
    updatedAt = serializers.DateTimeField(source="updated_at")
    schema = serializers.JSONField(source="json_schema")

    class Meta:
        model = WorkingMemory
        fields = ["scope", "format", "workingMemory", "schema", "resourceId", "updatedAt"]

    def get_workingMemory(self, row: WorkingMemory) -> Any:
        return row.data if row.format == "json" else row.markdown


class DocumentOut(serializers.ModelSerializer[KnowledgeDocument]):
    mediaType = serializers.CharField(source="media_type")
    chunkSize = serializers.IntegerField(source="chunk_size")
    chunkOverlap = serializers.IntegerField(source="chunk_overlap")
    chunkCount = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = KnowledgeDocument
        fields = [
            "id",
            "title",
            "filename",
            "mediaType",
            "metadata",
            "status",
            "error",
            "chunkSize",
            "chunkOverlap",
            "chunkCount",
            "createdAt",
        ]

    def get_chunkCount(self, document: KnowledgeDocument) -> int:
        return document.chunks.count()
