"""The AI SDK chat route: `POST /api/agents/<agentId>/chat` answered as server-sent events."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat.api.serializers import (
    ChatInputSerializer,
    WsTicketOutputSerializer,
    newest_user_id,
    newest_user_text,
)
from chat.services import chat_request_build
from chat.sse import sse_response, sse_run_body
from core.ws_tickets import ws_ticket_issue


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
            client_message_id=newest_user_id(data["messages"]),
            regenerate=data["trigger"] == "regenerate-message",
        )
        return sse_response(sse_run_body(chat_request))


class WsTicketApi(APIView):
    """A single-use ticket that opens one chat WebSocket within a minute (`?ticket=`).

    For clients that must not put their API token in a URL (browsers cannot send headers
    on a WebSocket). Takes no body; authenticated by token or session like every route.
    """

    @extend_schema(operation_id="ws_tickets_create", request=None, responses={201: WsTicketOutputSerializer})
    def post(self, request: Request) -> Response:
        user_id = request.user.pk
        assert user_id is not None  # IsAuthenticated, the default permission  # noqa: S101
        ticket = ws_ticket_issue(user_id=user_id)
        body = {"ticket": ticket.ticket, "expiresAt": ticket.expires_at, "expiresInS": ticket.ttl_s}
        return Response(WsTicketOutputSerializer(body).data, status=status.HTTP_201_CREATED)
