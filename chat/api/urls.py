from django.urls import path

from chat.api.views import AgentChatApi, WsTicketApi

urlpatterns = [
    path("agents/<str:agent_id>/chat", AgentChatApi.as_view(), name="agent-chat"),
    path("ws-tickets", WsTicketApi.as_view(), name="ws-tickets"),
]
