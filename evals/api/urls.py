from django.urls import path, register_converter

from evals.api import views


class RowId:
    """A row id that fits PostgreSQL's bigint (at most 18 digits), so a huge one is a 404, not a 500."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowId, "rowid")

urlpatterns = [
    path("evals/datasets", views.DatasetListApi.as_view(), name="eval-dataset-list"),
    path("evals/datasets/<rowid:dataset_id>", views.DatasetDetailApi.as_view(), name="eval-dataset-detail"),
    path("evals/datasets/<rowid:dataset_id>/cases", views.CaseListApi.as_view(), name="eval-case-list"),
    path(
        "evals/datasets/<rowid:dataset_id>/cases/<rowid:case_id>",
        views.CaseDetailApi.as_view(),
        name="eval-case-detail",
    ),
    path("evals/experiments", views.ExperimentListApi.as_view(), name="eval-experiment-list"),
    path(
        "evals/experiments/<rowid:experiment_id>",
        views.ExperimentDetailApi.as_view(),
        name="eval-experiment-detail",
    ),
    path(
        "evals/experiments/<rowid:experiment_id>/cancel",
        views.ExperimentCancelApi.as_view(),
        name="eval-experiment-cancel",
    ),
    path(
        "evals/experiments/<rowid:experiment_id>/results",
        views.ExperimentResultsApi.as_view(),
        name="eval-experiment-results",
    ),
    path(
        "evals/experiments/<rowid:experiment_id>/compare/<rowid:candidate_id>",
        views.ExperimentCompareApi.as_view(),
        name="eval-experiment-compare",
    ),
    path("scores/run/<uuid:run_id>", views.ScoresByRunApi.as_view(), name="eval-scores-by-run"),
    path("scores/scorers", views.ScorerListApi.as_view(), name="eval-scorer-list"),
]
