"""Input and output shapes of the evals API. Inputs are strict: no number becomes text, no
text becomes a number. Cases are validated by `evals.validation` (the same rules as fixture
files); `CaseInputSerializer` documents their shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import fields as strict
from evals.models import Case, CaseResult, Dataset, Experiment, LiveScoring, Score


class DatasetInputSerializer(serializers.Serializer[dict[str, Any]]):
    name = strict.CharField(max_length=100)
    description = strict.CharField(required=False, allow_blank=True, max_length=10_000, default="")

    def validate_name(self, value: str) -> str:
        slug: str = serializers.SlugField().run_validation(value)
        return slug


class DatasetUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    description = strict.CharField(allow_blank=True, max_length=10_000)


class DatasetOutputSerializer(serializers.ModelSerializer[Dataset]):
    owner_id = serializers.IntegerField(allow_null=True, read_only=True)
    case_count = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "version",
            "owner_id",
            "case_count",
            "created_at",
            "updated_at",
        ]

    def get_case_count(self, obj: Dataset) -> int:
        return obj.cases.count()


class CaseMessageSerializer(serializers.Serializer[dict[str, Any]]):
    role = serializers.ChoiceField(choices=["user", "assistant", "system"])
    content = strict.CharField()


class CaseToolCallSerializer(serializers.Serializer[dict[str, Any]]):
    name = strict.CharField()
    arguments = serializers.DictField(required=False)


class CaseInputSerializer(serializers.Serializer[dict[str, Any]]):
    """Documentation of a case; `input` (text) may replace `input_messages` for one user message."""

    name = strict.CharField(max_length=100)
    input = strict.CharField(required=False)
    input_messages = CaseMessageSerializer(many=True, required=False)
    request_context = serializers.DictField(required=False)
    expected_output = strict.CharField(required=False, allow_blank=True)
    expected_tools = serializers.ListField(child=strict.CharField(), required=False)
    forbidden_tools = serializers.ListField(child=strict.CharField(), required=False)
    expected_tool_calls = CaseToolCallSerializer(many=True, required=False)
    reference_context = serializers.ListField(child=strict.CharField(), required=False)
    assertions = serializers.ListField(child=serializers.DictField(), required=False)
    tags = serializers.ListField(child=strict.CharField(), required=False)


class CaseOutputSerializer(serializers.ModelSerializer[Case]):
    class Meta:
        model = Case
        fields = [
            "id", "name", "input_messages", "request_context", "expected_output", "expected_tools",
            "forbidden_tools", "expected_tool_calls", "reference_context", "assertions", "tags",
        ]  # fmt: skip


class ExperimentInputSerializer(serializers.Serializer[dict[str, Any]]):
    dataset_id = strict.IntegerField(min_value=1, max_value=2**63 - 1)
    agent_id = strict.CharField(
        max_length=100, required=False, help_text="The agent to run every case against (or `workflow_id`)."
    )
    workflow_id = strict.CharField(
        max_length=64,
        required=False,
        help_text="A registered workflow to run every case as (instead of `agent_id`): the case's last "
        "user message is its inputData, a JSON object or the text of its one text field.",
    )
    scorers = serializers.ListField(
        child=serializers.DictField(), required=False, default=list, max_length=50
    )
    repeats = strict.IntegerField(required=False, default=1, min_value=1, max_value=20)
    concurrency = strict.IntegerField(required=False, default=4, min_value=1, max_value=64)
    exclude_tags = serializers.ListField(child=strict.CharField(), required=False, default=list)
    agent_version = strict.IntegerField(
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text="Run this stored version of the agent (default: its current version).",
    )


class LiveScoringInputSerializer(serializers.Serializer[dict[str, Any]]):
    agent_id = strict.CharField(max_length=100, help_text="The agent whose completed runs are sampled.")
    sample_rate = strict.FloatField(
        min_value=0.0, max_value=1.0, help_text="0 to 1: the share of runs scored."
    )
    scorers = serializers.ListField(
        child=serializers.DictField(),
        max_length=50,
        help_text='Scorer entries: [{"scorer": "no_side_effect"}]',
    )
    enabled = strict.BooleanField(required=False, default=True)


class LiveScoringUpdateSerializer(serializers.Serializer[dict[str, Any]]):
    sample_rate = strict.FloatField(min_value=0.0, max_value=1.0, required=False)
    scorers = serializers.ListField(child=serializers.DictField(), max_length=50, required=False)
    enabled = strict.BooleanField(required=False)


class LiveScoringOutputSerializer(serializers.ModelSerializer[LiveScoring]):
    agent_id = serializers.CharField(source="agent_slug")
    tenant_wide = serializers.SerializerMethodField(help_text="Made without an owner (in the Django admin).")

    class Meta:
        model = LiveScoring
        fields = ["id", "agent_id", "sample_rate", "scorers", "enabled", "tenant_wide", "created_at"]

    def get_tenant_wide(self, obj: LiveScoring) -> bool:
        return obj.owner_id is None


class ScorerSummarySerializer(serializers.Serializer[dict[str, Any]]):
    scorer = serializers.CharField()
    count = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    stdev = serializers.FloatField(allow_null=True)
    pass_rate = serializers.FloatField(allow_null=True)
    error_count = serializers.IntegerField()


class SummarySerializer(serializers.Serializer[dict[str, Any]]):
    total = serializers.IntegerField()
    done = serializers.IntegerField()
    progress = serializers.FloatField()
    counts = serializers.DictField(child=serializers.IntegerField())
    scorers = ScorerSummarySerializer(many=True)


class ExperimentOutputSerializer(serializers.ModelSerializer[Experiment]):
    agent_id = serializers.CharField(source="agent_slug", help_text="Empty for a workflow experiment.")
    summary = serializers.SerializerMethodField()

    class Meta:
        model = Experiment
        fields = [
            "id", "dataset_id", "dataset_version", "agent_id", "agent_version", "workflow_id",
            "workflow_version", "scorers", "repeats", "concurrency", "status", "created_at", "finished_at",
            "summary",
        ]  # fmt: skip

    @extend_schema_field(SummarySerializer)
    def get_summary(self, obj: Experiment) -> dict[str, Any]:
        summary: dict[str, Any] = self.context["summaries"][obj.pk]
        return summary


class ScoreOutputSerializer(serializers.Serializer[dict[str, Any]]):
    """A score of an experiment's result (`origin: experiment`) or of a sampled live run (`live`)."""

    origin = serializers.ChoiceField(choices=["experiment", "live"])
    scorer = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    passed = serializers.BooleanField()
    errored = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    details = serializers.DictField()
    run_id = serializers.UUIDField(allow_null=True)
    trace_id = serializers.UUIDField(allow_null=True)
    result_id = serializers.IntegerField(allow_null=True)
    experiment_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class ResultScoreSerializer(serializers.ModelSerializer[Score]):
    class Meta:
        model = Score
        fields = ["scorer", "value", "passed", "errored", "reason", "details"]


class ResultOutputSerializer(serializers.ModelSerializer[CaseResult]):
    scores = ResultScoreSerializer(many=True, read_only=True)

    class Meta:
        model = CaseResult
        fields = [
            "id", "case_name", "repeat", "status", "attempts", "run_id", "trace_id", "workflow_run_id",
            "output", "error", "finished_at", "scores",
        ]  # fmt: skip


class ScorerOutputSerializer(serializers.Serializer[dict[str, Any]]):
    name = serializers.CharField()
    description = serializers.CharField()
    judged = serializers.BooleanField()
    options_schema = serializers.DictField()


class ScorerDeltaSerializer(serializers.Serializer[dict[str, Any]]):
    scorer = serializers.CharField()
    baseline_mean = serializers.FloatField(allow_null=True)
    baseline_stdev = serializers.FloatField(allow_null=True)
    candidate_mean = serializers.FloatField(allow_null=True)
    candidate_stdev = serializers.FloatField(allow_null=True)
    delta = serializers.FloatField(allow_null=True)


class RunRefSerializer(serializers.Serializer[dict[str, Any]]):
    repeat = serializers.CharField()
    run_id = serializers.UUIDField(allow_null=True)
    trace_id = serializers.UUIDField(allow_null=True)


class CaseChangeSerializer(serializers.Serializer[dict[str, Any]]):
    case_name = serializers.CharField()
    baseline_pass_rate = serializers.FloatField()
    candidate_pass_rate = serializers.FloatField()
    baseline_scores = serializers.DictField(child=serializers.FloatField(allow_null=True))
    candidate_scores = serializers.DictField(child=serializers.FloatField(allow_null=True))
    baseline_runs = RunRefSerializer(many=True)
    candidate_runs = RunRefSerializer(many=True)


class ComparisonOutputSerializer(serializers.Serializer[dict[str, Any]]):
    baseline_id = serializers.IntegerField()
    candidate_id = serializers.IntegerField()
    scorers = ScorerDeltaSerializer(many=True)
    regressed = CaseChangeSerializer(many=True)
    improved = CaseChangeSerializer(many=True)
    unchanged = serializers.ListField(child=serializers.CharField())
    only_in_baseline = serializers.ListField(child=serializers.CharField())
    only_in_candidate = serializers.ListField(child=serializers.CharField())
