from django.urls import path

from agents.api import views

urlpatterns = [
    path("agents", views.AgentListApi.as_view(), name="agent-list"),
    path("agents/<slug:agent_id>", views.AgentDetailApi.as_view(), name="agent-detail"),
    path("agents/<slug:agent_id>/generate", views.AgentGenerateApi.as_view(), name="agent-generate"),
    path("tools", views.ToolListApi.as_view(), name="tool-list"),
    path("tools/<slug:tool_id>/execute", views.ToolExecuteApi.as_view(), name="tool-execute"),
    path("runs/<uuid:run_id>", views.RunDetailApi.as_view(), name="run-detail"),
    path("models", views.ModelListApi.as_view(), name="model-list"),
]
