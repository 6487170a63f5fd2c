from django.urls import path

from workflows.api import views

urlpatterns = [
    path("workflows", views.WorkflowListApi.as_view(), name="workflow-list"),
    path("workflows/<slug:workflow_id>", views.WorkflowDetailApi.as_view(), name="workflow-detail"),
    path("workflows/<slug:workflow_id>/create-run", views.CreateRunApi.as_view(), name="workflow-create-run"),
    path("workflows/<slug:workflow_id>/start", views.StartApi.as_view(), name="workflow-start"),
    path(
        "workflows/<slug:workflow_id>/start-async", views.StartAsyncApi.as_view(), name="workflow-start-async"
    ),
    path("workflows/<slug:workflow_id>/stream", views.StreamApi.as_view(), name="workflow-stream"),
    path("workflows/<slug:workflow_id>/watch", views.WatchApi.as_view(), name="workflow-watch"),
    path("workflows/<slug:workflow_id>/resume", views.ResumeApi.as_view(), name="workflow-resume"),
    path(
        "workflows/<slug:workflow_id>/resume-async",
        views.ResumeAsyncApi.as_view(),
        name="workflow-resume-async",
    ),
    path("workflows/<slug:workflow_id>/resume-all", views.ResumeAllApi.as_view(), name="workflow-resume-all"),
    path("workflows/<slug:workflow_id>/restart", views.RestartApi.as_view(), name="workflow-restart"),
    path("workflows/<slug:workflow_id>/runs", views.RunListApi.as_view(), name="workflow-run-list"),
    path(
        "workflows/<slug:workflow_id>/runs/<uuid:run_id>",
        views.RunDetailApi.as_view(),
        name="workflow-run-detail",
    ),
    path(
        "workflows/<slug:workflow_id>/runs/<uuid:run_id>/cancel",
        views.RunCancelApi.as_view(),
        name="workflow-run-cancel",
    ),
]
