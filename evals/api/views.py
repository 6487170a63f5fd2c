"""Datasets, cases, experiments and scores over REST. Thin: validate, call one service or
selector, serialise. Every object is reached through the owner model (`evals.selectors`,
`evals.services`): another owner's object is a 404."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.access import Actor, actor_for_user
from core.errors import ValidationFailed
from evals import selectors
from evals.api import serializers as s
from evals.comparison import experiment_compare
from evals.models import Experiment
from evals.scorers import registry
from evals.services import datasets as dataset_services
from evals.services import experiments as experiment_services
from evals.services import live as live_services

MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
PAGE = [
    OpenApiParameter("limit", int, description=f"1 to {MAX_LIMIT} (default 100)"),
    OpenApiParameter("offset", int, description=f"0 to {MAX_OFFSET}"),
]


def _actor(request: Request) -> Actor:
    return actor_for_user(request.user)


def _bounded(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValidationFailed(
            f"{name} must be a whole number from {low} to {high}.", details={name: ["Out of range."]}
        )
    return int(raw)


def _page(request: Request, queryset: QuerySet[Any]) -> QuerySet[Any]:
    limit = _bounded(request, "limit", 100, 1, MAX_LIMIT)
    offset = _bounded(request, "offset", 0, 0, MAX_OFFSET)
    return queryset[offset : offset + limit]


def _valid(serializer_class: type[Any], data: Any, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    validated: dict[str, Any] = serializer.validated_data
    return validated


class DatasetListApi(APIView):
    @extend_schema(parameters=PAGE, responses=s.DatasetOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        datasets = _page(request, selectors.dataset_list(actor=_actor(request)))
        return Response(s.DatasetOutputSerializer(datasets, many=True).data)

    @extend_schema(request=s.DatasetInputSerializer, responses={201: s.DatasetOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(s.DatasetInputSerializer, request.data)
        dataset = dataset_services.dataset_create(actor=_actor(request), **data)
        return Response(s.DatasetOutputSerializer(dataset).data, status=201)


class DatasetDetailApi(APIView):
    @extend_schema(responses=s.DatasetOutputSerializer)
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = selectors.dataset_get(actor=_actor(request), dataset_id=dataset_id)
        return Response(s.DatasetOutputSerializer(dataset).data)

    @extend_schema(request=s.DatasetUpdateSerializer, responses=s.DatasetOutputSerializer)
    def patch(self, request: Request, dataset_id: int) -> Response:
        data = _valid(s.DatasetUpdateSerializer, request.data)
        dataset = dataset_services.dataset_update(actor=_actor(request), dataset_id=dataset_id, **data)
        return Response(s.DatasetOutputSerializer(dataset).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, dataset_id: int) -> Response:
        dataset_services.dataset_delete(actor=_actor(request), dataset_id=dataset_id)
        return Response(status=204)


class CaseListApi(APIView):
    @extend_schema(parameters=PAGE, responses=s.CaseOutputSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        cases = _page(request, selectors.case_list(actor=_actor(request), dataset_id=dataset_id))
        return Response(s.CaseOutputSerializer(cases, many=True).data)

    @extend_schema(request=s.CaseInputSerializer, responses={201: s.CaseOutputSerializer})
    def post(self, request: Request, dataset_id: int) -> Response:
        case = dataset_services.case_create(actor=_actor(request), dataset_id=dataset_id, data=request.data)
        return Response(s.CaseOutputSerializer(case).data, status=201)


class CaseDetailApi(APIView):
    @extend_schema(responses=s.CaseOutputSerializer)
    def get(self, request: Request, dataset_id: int, case_id: int) -> Response:
        case = selectors.case_get(actor=_actor(request), dataset_id=dataset_id, case_id=case_id)
        return Response(s.CaseOutputSerializer(case).data)

    @extend_schema(request=s.CaseInputSerializer(partial=True), responses=s.CaseOutputSerializer)
    def patch(self, request: Request, dataset_id: int, case_id: int) -> Response:
        case = dataset_services.case_update(
            actor=_actor(request), dataset_id=dataset_id, case_id=case_id, data=request.data
        )
        return Response(s.CaseOutputSerializer(case).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, dataset_id: int, case_id: int) -> Response:
        dataset_services.case_delete(actor=_actor(request), dataset_id=dataset_id, case_id=case_id)
        return Response(status=204)


def _experiment_data(experiments: list[Experiment]) -> Any:
    summaries = {e.pk: selectors.experiment_summary(experiment=e).as_dict() for e in experiments}
    return s.ExperimentOutputSerializer(experiments, many=True, context={"summaries": summaries}).data


class ExperimentListApi(APIView):
    @extend_schema(parameters=PAGE, responses=s.ExperimentOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            _experiment_data(list(_page(request, selectors.experiment_list(actor=_actor(request)))))
        )

    @extend_schema(request=s.ExperimentInputSerializer, responses={201: s.ExperimentOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(s.ExperimentInputSerializer, request.data)
        experiment = experiment_services.experiment_start(actor=_actor(request), **data)
        return Response(_experiment_data([experiment])[0], status=201)


class ExperimentDetailApi(APIView):
    """Status, progress and the per-scorer summary."""

    @extend_schema(responses=s.ExperimentOutputSerializer)
    def get(self, request: Request, experiment_id: int) -> Response:
        experiment = selectors.experiment_get(actor=_actor(request), experiment_id=experiment_id)
        return Response(_experiment_data([experiment])[0])


class ExperimentCancelApi(APIView):
    @extend_schema(request=None, responses=s.ExperimentOutputSerializer)
    def post(self, request: Request, experiment_id: int) -> Response:
        experiment = experiment_services.experiment_cancel(actor=_actor(request), experiment_id=experiment_id)
        return Response(_experiment_data([experiment])[0])


class ExperimentResultsApi(APIView):
    @extend_schema(parameters=PAGE, responses=s.ResultOutputSerializer(many=True))
    def get(self, request: Request, experiment_id: int) -> Response:
        results = _page(request, selectors.result_list(actor=_actor(request), experiment_id=experiment_id))
        return Response(s.ResultOutputSerializer(results, many=True).data)


class ScoresByRunApi(APIView):
    """Scores given to an agent run (Mastra's `/api/scores/run/{runId}`): by the experiments
    the caller may read whose result is that run, and by live scoring of a run the caller may read."""

    @extend_schema(parameters=PAGE, responses=s.ScoreOutputSerializer(many=True))
    def get(self, request: Request, run_id: uuid.UUID) -> Response:
        actor = _actor(request)
        rows: list[dict[str, Any]] = [
            {
                "origin": "experiment",
                "scorer": score.scorer,
                "value": score.value,
                "passed": score.passed,
                "errored": score.errored,
                "reason": score.reason,
                "details": score.details,
                "run_id": score.result.run_id,
                "trace_id": score.result.trace_id,
                "result_id": score.result_id,
                "experiment_id": score.result.experiment_id,
                "created_at": score.created_at,
            }
            for score in _page(request, selectors.scores_for_run(actor=actor, run_id=run_id))
        ]
        rows += [
            {
                "origin": "live",
                "scorer": score.scorer,
                "value": score.value,
                "passed": score.passed,
                "errored": score.errored,
                "reason": score.reason,
                "details": score.details,
                "run_id": score.run_id,
                "trace_id": score.trace_id,
                "result_id": None,
                "experiment_id": None,
                "created_at": score.created_at,
            }
            for score in _page(request, selectors.live_scores_for_run(actor=actor, run_id=run_id))
        ]
        return Response(s.ScoreOutputSerializer(cast(Any, rows), many=True).data)


class ScorerListApi(APIView):
    """The registered scorers and the JSON Schema of each one's options."""

    @extend_schema(responses=s.ScorerOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        _actor(request)
        data = [
            {
                "name": d.name,
                "description": d.description,
                "judged": d.judged,
                "options_schema": d.options_model.model_json_schema(by_alias=True),
            }
            for d in registry.all()
        ]
        return Response(s.ScorerOutputSerializer(cast(Any, data), many=True).data)


class ExperimentCompareApi(APIView):
    """The baseline against a candidate: per-scorer means and spread, regressed and improved cases."""

    @extend_schema(responses=s.ComparisonOutputSerializer)
    def get(self, request: Request, experiment_id: int, candidate_id: int) -> Response:
        comparison = experiment_compare(
            actor=_actor(request), baseline_id=experiment_id, candidate_id=candidate_id
        )
        return Response(s.ComparisonOutputSerializer(comparison.as_dict()).data)


class LiveScoringListApi(APIView):
    """Per agent, the share of completed runs scored in the background and the scorers applied.
    Members read their own and the tenant-wide configurations; tenant admins configure."""

    @extend_schema(parameters=PAGE, responses=s.LiveScoringOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        configs = _page(request, selectors.live_scoring_list(actor=_actor(request)))
        return Response(s.LiveScoringOutputSerializer(configs, many=True).data)

    @extend_schema(request=s.LiveScoringInputSerializer, responses={201: s.LiveScoringOutputSerializer})
    def post(self, request: Request) -> Response:
        data = _valid(s.LiveScoringInputSerializer, request.data)
        config = live_services.live_scoring_create(actor=_actor(request), **data)
        return Response(s.LiveScoringOutputSerializer(config).data, status=201)


class LiveScoringDetailApi(APIView):
    @extend_schema(responses=s.LiveScoringOutputSerializer)
    def get(self, request: Request, config_id: int) -> Response:
        config = selectors.live_scoring_get(actor=_actor(request), config_id=config_id)
        return Response(s.LiveScoringOutputSerializer(config).data)

    @extend_schema(request=s.LiveScoringUpdateSerializer, responses=s.LiveScoringOutputSerializer)
    def patch(self, request: Request, config_id: int) -> Response:
        data = _valid(s.LiveScoringUpdateSerializer, request.data)
        config = live_services.live_scoring_update(actor=_actor(request), config_id=config_id, **data)
        return Response(s.LiveScoringOutputSerializer(config).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, config_id: int) -> Response:
        live_services.live_scoring_delete(actor=_actor(request), config_id=config_id)
        return Response(status=204)
