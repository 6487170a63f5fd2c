"""The AI SDK chat route: `POST /api/agents/<agentId>/chat` answered as server-sent events."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from chat.api.serializers import ChatInputSerializer, newest_user_text
from chat.services import chat_request_build
from chat.sse import sse_response, sse_run_body


class AgentChatApi(APIView):
    """Runs the agent on the chat's thread and streams the UI message stream (v1).

    The view itself is short and synchronous; the body is an async iterator the
    ASGI server drains on its event loop, so no worker thread is held per token.
    """

    @extend_schema(request=ChatInputSerializer, responses={(200, "text/event-stream"): str})
    def post(self, request: Request, agent_id: str) -> StreamingHttpResponse:
        serializer = ChatInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        chat_request = chat_request_build(
            user=request.user,
            agent_id=agent_id,
            thread_id=data["id"],
            text=newest_user_text(data["messages"]),
            model=data.get("model"),
        )
        return sse_response(sse_run_body(chat_request))
