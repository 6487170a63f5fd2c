from django.urls import path

from chat.api.views import AgentChatApi, AgentChatStreamApi, WsTicketApi

urlpatterns = [
    path("agents/<str:agent_id>/chat", AgentChatApi.as_view(), name="agent-chat"),
    path(
        "agents/<str:agent_id>/chat/<str:chat_id>/stream",
        AgentChatStreamApi.as_view(),
        name="agent-chat-stream",
    ),
    path("ws-tickets", WsTicketApi.as_view(), name="ws-tickets"),
]
