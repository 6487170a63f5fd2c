from django.urls import path

from evals.api import views

urlpatterns = [
    path("evals/datasets", views.DatasetListApi.as_view(), name="eval-dataset-list"),
    path("evals/datasets/<id:dataset_id>", views.DatasetDetailApi.as_view(), name="eval-dataset-detail"),
    path("evals/datasets/<id:dataset_id>/cases", views.CaseListApi.as_view(), name="eval-case-list"),
    path(
        "evals/datasets/<id:dataset_id>/cases/<id:case_id>",
        views.CaseDetailApi.as_view(),
        name="eval-case-detail",
    ),
    path("evals/experiments", views.ExperimentListApi.as_view(), name="eval-experiment-list"),
    path(
        "evals/experiments/<id:experiment_id>",
        views.ExperimentDetailApi.as_view(),
        name="eval-experiment-detail",
    ),
    path(
        "evals/experiments/<id:experiment_id>/cancel",
        views.ExperimentCancelApi.as_view(),
        name="eval-experiment-cancel",
    ),
    path(
        "evals/experiments/<id:experiment_id>/results",
        views.ExperimentResultsApi.as_view(),
        name="eval-experiment-results",
    ),
    path(
        "evals/experiments/<id:experiment_id>/compare/<id:candidate_id>",
        views.ExperimentCompareApi.as_view(),
        name="eval-experiment-compare",
    ),
    path("evals/live-scorings", views.LiveScoringListApi.as_view(), name="eval-live-scoring-list"),
    path(
        "evals/live-scorings/<id:config_id>",
        views.LiveScoringDetailApi.as_view(),
        name="eval-live-scoring-detail",
    ),
    path("scores/run/<uuid:run_id>", views.ScoresByRunApi.as_view(), name="eval-scores-by-run"),
    path("scores/scorers", views.ScorerListApi.as_view(), name="eval-scorer-list"),
]
