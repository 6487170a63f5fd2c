"""The AI SDK chat route: `POST /api/agents/<agentId>/chat` answered as server-sent events."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.api.model_choice import MODEL_PARAMETERS, requested_model
from chat.api.serializers import (
    CHAT_ID,
    ChatInputSerializer,
    WsTicketOutputSerializer,
    approval_responses,
    newest_user_id,
    newest_user_text,
)
from chat.services import chat_continuation_build, chat_request_build, chat_run_to_resume
from chat.sse import sse_continue_body, sse_response, sse_resume_body, sse_run_body
from core.errors import ValidationFailed
from core.ws_tickets import ws_ticket_issue


class AgentChatApi(APIView):
    """Runs the agent on the chat's thread and streams the UI message stream (v1).

    A request whose last message answers approval requests (tool parts in state
    `approval-responded`, as `useChat`'s `addToolApprovalResponse` sends them) records the
    decisions and streams the run's continuation instead of a new turn; a decision that
    cannot be taken is answered 404, 409 (with the earlier decision) or 400 before any event.

    The view itself is short and synchronous; the body is an async iterator the
    ASGI server drains on its event loop, so no worker thread is held per token.
    """

    @extend_schema(
        request=ChatInputSerializer,
        responses={(200, "text/event-stream"): str},
        parameters=MODEL_PARAMETERS,
    )
    def post(self, request: Request, agent_id: str) -> StreamingHttpResponse:
        serializer = ChatInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        decisions = approval_responses(data["messages"])
        if decisions:
            continuation = chat_continuation_build(
                user=request.user, agent_id=agent_id, thread_id=data["id"], decisions=decisions
            )
            return sse_response(sse_continue_body(continuation))
        chat_request = chat_request_build(
            user=request.user,
            agent_id=agent_id,
            thread_id=data["id"],
            text=newest_user_text(data["messages"]),
            model=requested_model(request, data),
            client_message_id=newest_user_id(data["messages"]),
            regenerate=data["trigger"] == "regenerate-message",
            require_tool_approval=data["requireToolApproval"],
        )
        return sse_response(sse_run_body(chat_request))


class AgentChatStreamApi(APIView):
    """Resumes the chat's run in flight: `GET <chat route>/<chatId>/stream`, the AI SDK's
    reconnect route (`useChat({resume: true})`, `resumeStream()`).

    The stream replays the run's chunks from its first, then follows it live to its end,
    from any process and any tab of the same user. 204 when the user has no run in flight
    on that chat (the SDK then leaves its messages as they are).
    """

    @extend_schema(
        operation_id="agents_chat_stream_resume",
        responses={(200, "text/event-stream"): str, 204: None},
    )
    def get(self, request: Request, agent_id: str, chat_id: str) -> StreamingHttpResponse | Response:
        if not CHAT_ID.fullmatch(chat_id):
            raise ValidationFailed(
                "The chat id is malformed.",
                details={"id": ["Use 1 to 200 of A-Z, a-z, 0-9, '_', '.', ':', '-'."]},
            )
        run_id = chat_run_to_resume(user=request.user, agent_id=agent_id, thread_id=chat_id)
        if run_id is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        user_id = request.user.pk
        assert user_id is not None  # IsAuthenticated, the default permission  # noqa: S101
        return sse_response(sse_resume_body(user_id=user_id, run_id=run_id))


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
