from django.urls import path

from agents.api import runs, views

urlpatterns = [
    path("agents", views.AgentListApi.as_view(), name="agent-list"),
    path("agents/<slug:agent_id>", views.AgentDetailApi.as_view(), name="agent-detail"),
    path("agents/<slug:agent_id>/generate", views.AgentGenerateApi.as_view(), name="agent-generate"),
    path("agents/<slug:agent_id>/approve-tool-call", runs.ApproveToolCallApi.as_view(), name="agent-approve"),
    path("agents/<slug:agent_id>/decline-tool-call", runs.DeclineToolCallApi.as_view(), name="agent-decline"),
    path(
        "agents/<slug:agent_id>/approve-tool-call-generate",
        runs.ApproveToolCallGenerateApi.as_view(),
        name="agent-approve-generate",
    ),
    path(
        "agents/<slug:agent_id>/decline-tool-call-generate",
        runs.DeclineToolCallGenerateApi.as_view(),
        name="agent-decline-generate",
    ),
    path("agents/<slug:agent_id>/resume-stream", runs.ResumeStreamApi.as_view(), name="agent-resume-stream"),
    path(
        "agents/<slug:agent_id>/resume-generate",
        runs.ResumeGenerateApi.as_view(),
        name="agent-resume-generate",
    ),
    path(
        "agents/<slug:agent_id>/suspended-runs",
        runs.SuspendedRunListApi.as_view(),
        name="agent-suspended-runs",
    ),
    path("tools", views.ToolListApi.as_view(), name="tool-list"),
    path("tools/<slug:tool_id>/execute", views.ToolExecuteApi.as_view(), name="tool-execute"),
    path("runs/<uuid:run_id>", views.RunDetailApi.as_view(), name="run-detail"),
    path("runs/<uuid:run_id>/cancel", runs.RunCancelApi.as_view(), name="run-cancel"),
    path("models", views.ModelListApi.as_view(), name="model-list"),
]
