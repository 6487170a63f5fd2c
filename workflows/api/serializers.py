"""Request and response shapes of the workflow API (Mastra's names: inputData, resumeData, runId)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from workflows.models import WorkflowRun


class WorkflowOutputSerializer(serializers.Serializer[Any]):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    version = serializers.CharField()
    graphHash = serializers.CharField()
    enabled = serializers.BooleanField()
    inputSchema = serializers.DictField()
    outputSchema = serializers.DictField()
    steps = serializers.DictField(child=serializers.DictField())
    stepGraph = serializers.ListField(child=serializers.DictField())
    versions = serializers.ListField(child=serializers.CharField())


class WorkflowCreateRunInputSerializer(serializers.Serializer[Any]):
    resourceId = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    threadId = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class WorkflowRunIdOutputSerializer(serializers.Serializer[Any]):
    runId = serializers.UUIDField()


class WorkflowStartInputSerializer(WorkflowCreateRunInputSerializer):
    inputData = serializers.JSONField(required=False, default=dict)
    requestContext = serializers.DictField(required=False, default=dict)
    concurrencyKey = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class WorkflowResumeInputSerializer(serializers.Serializer[Any]):
    step = serializers.CharField(
        required=False,
        allow_null=True,
        default=None,
        max_length=500,
        help_text="The exact step path (`2:approve[1]`), or a step id where one suspension of it is open; "
        "omitted: the run's only open suspension.",
    )
    resumeData = serializers.JSONField(required=False, default=None)


class WorkflowResumeAllInputSerializer(serializers.Serializer[Any]):
    resumeData = serializers.JSONField(required=False, default=None)


class WorkflowRestartInputSerializer(serializers.Serializer[Any]):
    step = serializers.CharField(max_length=500, help_text="A top-level step id or path (`1:double`).")


class WorkflowMessageOutputSerializer(serializers.Serializer[Any]):
    message = serializers.CharField()
    runId = serializers.UUIDField()


class WorkflowRunListQuerySerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=WorkflowRun.Status.choices, required=False)
    resourceId = serializers.CharField(required=False, max_length=255)
    fromDate = serializers.DateTimeField(required=False)
    toDate = serializers.DateTimeField(required=False)


class WorkflowRunOutputSerializer(serializers.Serializer[Any]):
    runId = serializers.UUIDField(source="id")
    workflowName = serializers.CharField(source="workflow_id")
    version = serializers.CharField()
    status = serializers.CharField()
    input = serializers.JSONField()
    result = serializers.JSONField(source="output")
    error = serializers.JSONField()
    state = serializers.JSONField()
    resourceId = serializers.CharField(source="resource_id")
    threadId = serializers.CharField(source="thread_id")
    generation = serializers.IntegerField()
    lastEventId = serializers.IntegerField(source="event_seq")
    createdAt = serializers.DateTimeField(source="created_at")
    startedAt = serializers.DateTimeField(source="started_at")
    finishedAt = serializers.DateTimeField(source="finished_at")


class WorkflowRunDetailOutputSerializer(WorkflowRunOutputSerializer):
    steps = serializers.DictField(child=serializers.DictField(), source="steps_view")
    suspended = serializers.ListField(child=serializers.DictField(), source="suspended_view")


class WorkflowRunListOutputSerializer(serializers.Serializer[Any]):
    runs = WorkflowRunOutputSerializer(many=True)
    total = serializers.IntegerField()
