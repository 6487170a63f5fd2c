from django.urls import path

from chat.consumers import AgentChatConsumer

websocket_urlpatterns = [
    path("ws/agents/<str:agent_id>/", AgentChatConsumer.as_asgi()),
]
