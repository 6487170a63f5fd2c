from django.urls import path

from chat.api.views import AgentChatApi

urlpatterns = [
    path("agents/<str:agent_id>/chat", AgentChatApi.as_view(), name="agent-chat"),
]
