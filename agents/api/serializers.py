"""Input and output shapes of the agents API (camelCase, like Mastra's server)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from agents.limits import IDEMPOTENCY_KEY_MAX_LENGTH, MODEL_NAME_MAX_LENGTH
from agents.models import Agent, Run, Tool
from agents.selectors import agent_effective_tools
from core.api import fields


class MessageSerializer(serializers.Serializer[dict[str, Any]]):
    role = serializers.ChoiceField(choices=["user", "assistant", "system"])
    content = fields.CharField(allow_blank=False, trim_whitespace=False)


class MemoryRefSerializer(fields.NestedObject):
    thread = fields.CharField(max_length=200)
    resource = fields.CharField(max_length=200, required=False)


class StructuredOutputSerializer(fields.NestedObject):
    schema = fields.DictField()


class GenerateInputSerializer(serializers.Serializer[dict[str, Any]]):
    messages = serializers.ListField(child=MessageSerializer(), required=False, min_length=1, max_length=500)
    prompt = fields.CharField(required=False, trim_whitespace=False, max_length=200_000)
    requestContext = fields.DictField(required=False, default=dict)
    idempotencyKey = fields.CharField(required=False, max_length=IDEMPOTENCY_KEY_MAX_LENGTH)
    model = fields.CharField(required=False, max_length=MODEL_NAME_MAX_LENGTH)
    modelId = fields.CharField(
        required=False, max_length=MODEL_NAME_MAX_LENGTH, help_text="The same as model (the AI SDK's name)."
    )
    maxSteps = fields.IntegerField(required=False, min_value=1, max_value=50)
    toolChoice = serializers.ChoiceField(choices=["auto", "none", "required"], required=False)
    structuredOutput = StructuredOutputSerializer(required=False)
    memory = MemoryRefSerializer(required=False)
    requireToolApproval = fields.BooleanField(
        required=False, default=False, help_text="Every tool call of this run waits for a person's approval."
    )
    autoResumeSuspendedTools = fields.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Resume a tool suspended on this thread from this message (default: the agent's setting).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("messages" in attrs) == ("prompt" in attrs):
            raise serializers.ValidationError({"messages": ["Send either messages or prompt."]})
        if "prompt" in attrs and not attrs["prompt"].strip():
            raise serializers.ValidationError({"prompt": ["This field may not be blank."]})
        return attrs


class EffectiveToolSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="The name the model sees.")
    toolId = serializers.CharField(source="tool_id", help_text="The registered tool behind the name.")
    source = serializers.ChoiceField(  # type: ignore[assignment]  # a field named like Field.source
        choices=["explicit", "toolkit", "ambient"],
        help_text="explicit: the agent's allowlist; toolkit: a toolkit use; ambient: offered to every agent.",
    )
    toolkit = serializers.CharField(help_text="The toolkit it comes from (empty unless source is toolkit).")
    renamedFrom = serializers.CharField(
        source="renamed_from",
        help_text="The tool's own id when the model sees another name (prefix, rename).",
    )
    state = serializers.ChoiceField(
        choices=["offered", "needs_approval", "switched_off"],
        help_text="needs_approval: its calls wait for a person; switched_off: an operator turned it off.",
    )


class EffectiveToolsSerializer(serializers.Serializer[Any]):
    tools = EffectiveToolSerializer(many=True)
    shadowed = serializers.ListField(
        child=serializers.CharField(), help_text="Ambient tools left out: the agent has its own of that name."
    )
    excluded = serializers.ListField(
        child=serializers.CharField(), help_text="Ambient tools the agent excludes."
    )
    clashes = serializers.ListField(
        child=serializers.CharField(), help_text="Names two sources offer; the first one listed is kept."
    )


class AgentOutputSerializer(serializers.ModelSerializer[Agent]):
    id = serializers.CharField(source="slug")
    tools = serializers.SerializerMethodField()
    allowModelOverride = serializers.BooleanField(source="allow_model_override")
    maxSteps = serializers.IntegerField(source="max_steps")
    fallbackModels = serializers.JSONField(source="fallback_models")
    requestContextSchema = serializers.JSONField(source="request_context_schema")
    requireApproval = serializers.BooleanField(source="require_approval")
    autoResumeSuspendedTools = serializers.BooleanField(source="auto_resume_suspended_tools")
    memoryEnabled = serializers.SerializerMethodField()
    effectiveTools = serializers.SerializerMethodField(
        help_text="The tools the agent's runs are offered (allowlist, toolkits, ambient tools) and why, "
        "as the admin's effective-tools panel shows them."
    )
    styleInstructions = serializers.CharField(
        source="style_instructions",
        help_text="The agent's own style text, appended instead of the default set when style is 'custom'.",
    )

    class Meta:
        model = Agent
        fields = [
            "id",
            "name",
            "description",
            "instructions",
            "style",
            "styleInstructions",
            "model",
            "fallbackModels",
            "allowModelOverride",
            "maxSteps",
            "tools",
            "effectiveTools",
            "requireApproval",
            "autoResumeSuspendedTools",
            "requestContextSchema",
            "memoryEnabled",
            "enabled",
            "version",
        ]

    def get_tools(self, agent: Agent) -> list[str]:
        return sorted(tool.id for tool in agent.tools.all())

    @extend_schema_field(EffectiveToolsSerializer)
    def get_effectiveTools(self, agent: Agent) -> dict[str, Any]:
        off = self.context.get("switched_off")
        return EffectiveToolsSerializer(agent_effective_tools(agent, switched_off=off)).data

    def get_memoryEnabled(self, agent: Agent) -> bool:
        """Memory is on unless the agent's memory settings switch it off (`"enabled": false`)."""
        memory = agent.memory if isinstance(agent.memory, dict) else {}
        return bool(memory.get("enabled", True))


class ToolOutputSerializer(serializers.ModelSerializer[Tool]):
    sideEffect = serializers.CharField(source="side_effect")
    needsApproval = serializers.BooleanField(source="needs_approval")
    timeoutS = serializers.FloatField(source="timeout_s")
    inputSchema = serializers.JSONField(source="input_schema")
    outputSchema = serializers.JSONField(source="output_schema")

    class Meta:
        model = Tool
        fields = [
            "id",
            "description",
            "label",
            "sideEffect",
            "needsApproval",
            "timeoutS",
            "inputSchema",
            "outputSchema",
            "enabled",
        ]


class ToolExecuteInputSerializer(serializers.Serializer[dict[str, Any]]):
    """`{"data": {...tool input...}}`, Mastra's shape; `data` cannot be a class attribute (it is Serializer.data)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        return {"data": fields.JSONObjectField(default=dict, help_text="The tool's input, an object.")}


class RunOutputSerializer(serializers.ModelSerializer[Run]):
    runId = serializers.UUIDField(source="id")
    agentId = serializers.CharField(source="agent.slug")
    agentVersion = serializers.IntegerField(source="agent_version")
    threadId = serializers.CharField(source="thread_id")
    resourceId = serializers.CharField(source="resource_id")
    traceId = serializers.UUIDField(source="trace_id")
    createdAt = serializers.DateTimeField(source="created_at")
    durationMs = serializers.FloatField(source="duration_ms")

    class Meta:
        model = Run
        fields = [
            "runId",
            "agentId",
            "agentVersion",
            "status",
            "model",
            "threadId",
            "resourceId",
            "input",
            "result",
            "usage",
            "error",
            "steps",
            "traceId",
            "createdAt",
            "durationMs",
        ]


class UsageOutputSerializer(serializers.Serializer[dict[str, Any]]):
    promptTokens = serializers.IntegerField()
    completionTokens = serializers.IntegerField()
    totalTokens = serializers.IntegerField()


class GenerateOutputSerializer(serializers.Serializer[dict[str, Any]]):
    """Mastra's generate response (camelCase); `object` only with structured output."""

    runId = serializers.UUIDField()
    traceId = serializers.UUIDField()
    agentId = serializers.CharField()
    agentVersion = serializers.IntegerField()
    status = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
    toolCalls = serializers.ListField(child=serializers.DictField())
    toolResults = serializers.ListField(child=serializers.DictField())
    usage = UsageOutputSerializer()
    finishReason = serializers.CharField()
    steps = serializers.IntegerField()
    model = serializers.CharField()
    object = serializers.JSONField(required=False)
    error = serializers.DictField(required=False)
    pendingToolCalls = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="With status 'suspended': the tool calls the run waits on (approvalId, toolCallId, kind, ...).",
    )


class ToolExecuteOutputSerializer(serializers.Serializer[dict[str, Any]]):
    output = serializers.JSONField(help_text="The tool's output, as its output schema describes it.")
    traceId = serializers.UUIDField()


class ModelEntrySerializer(serializers.Serializer[dict[str, Any]]):
    id = serializers.CharField()
    provider = serializers.CharField()
    configured = serializers.BooleanField()
    discovered = serializers.BooleanField()
    tier = serializers.ChoiceField(
        choices=["thinking", "balanced", "fast"],
        allow_null=True,
        help_text="The catalogue tier of the model; null for a model outside the catalogue.",
    )


class ProviderEntrySerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField()
    baseUrl = serializers.CharField()
    error = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()


class ModelListOutputSerializer(serializers.Serializer[dict[str, Any]]):
    models = ModelEntrySerializer(many=True)
    providers = ProviderEntrySerializer(many=True)


class ToolCallDecisionInputSerializer(serializers.Serializer[dict[str, Any]]):
    """Mastra's `{runId, toolCallId, reason?}`."""

    runId = serializers.UUIDField()
    toolCallId = fields.CharField(max_length=200)
    reason = fields.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ResumeInputSerializer(serializers.Serializer[dict[str, Any]]):
    """`{runId, toolCallId, resumeData}`: the data is checked against the tool's resume schema."""

    runId = serializers.UUIDField()
    toolCallId = fields.CharField(max_length=200)
    resumeData = fields.JSONObjectField(help_text="An object matching the tool's resume schema.")


class PendingToolCallSerializer(serializers.Serializer[dict[str, Any]]):
    approvalId = serializers.UUIDField()
    runId = serializers.UUIDField()
    toolCallId = serializers.CharField()
    toolName = serializers.CharField()
    kind = serializers.ChoiceField(choices=["approval", "suspension"])
    status = serializers.CharField()
    input = serializers.JSONField()
    argsHash = serializers.CharField()
    createdAt = serializers.DateTimeField(allow_null=True)
    decidedBy = serializers.IntegerField(allow_null=True)
    decidedAt = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField(allow_blank=True)
    expiresAt = serializers.DateTimeField(allow_null=True)
    suspendPayload = serializers.JSONField(required=False)
    resumeSchema = serializers.JSONField(required=False)


class SuspendedRunOutputSerializer(serializers.Serializer[dict[str, Any]]):
    runId = serializers.UUIDField()
    agentId = serializers.CharField()
    threadId = serializers.CharField(allow_blank=True)
    resourceId = serializers.CharField(allow_blank=True)
    status = serializers.CharField()
    createdAt = serializers.DateTimeField()
    pendingToolCalls = PendingToolCallSerializer(many=True)


class SuspendedRunsQuerySerializer(serializers.Serializer[dict[str, Any]]):
    threadId = fields.CharField(required=False, max_length=200)
    resourceId = fields.CharField(required=False, max_length=200)
