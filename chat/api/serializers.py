"""The body `useChat()` sends through `DefaultChatTransport`."""

from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from agents.limits import MODEL_NAME_MAX_LENGTH
from chat.runtime import ChatDecision
from core.api import fields

APPROVAL_RESPONDED = "approval-responded"


class ApprovalSerializer(fields.NestedObject):
    """A tool part's `approval` as `addToolApprovalResponse` leaves it."""

    id = fields.CharField(max_length=200)
    approved = fields.BooleanField(required=False, allow_null=True, default=None)
    reason = fields.CharField(required=False, allow_blank=True, allow_null=True, max_length=2000)


class PartSerializer(serializers.Serializer[Any]):
    type = fields.CharField(max_length=100)
    text = fields.CharField(required=False, allow_blank=True, trim_whitespace=False)
    # Tool parts (`tool-<name>`): only what an answer to an approval request needs is read.
    toolCallId = fields.CharField(max_length=200, required=False)
    state = fields.CharField(max_length=40, required=False)
    approval = ApprovalSerializer(required=False)


ROLES = ("system", "user", "assistant")


class UIMessageListSerializer(serializers.ListSerializer[Any]):
    """A chat's messages as `useChat` sends them: all of them, on every turn.

    Only the newest user message and the last message are read (memory holds the
    conversation), so only they are validated field by field; every other message is checked
    for its shape (an object with a known role and a list of parts, each with a type) and kept
    as sent. A long chat then costs the request no more than a short one: field by field, 200
    messages took 10 ms to validate on the reference machine.
    """

    def to_internal_value(self, data: Any) -> list[Any]:
        if not isinstance(data, list) or not data:
            return super().to_internal_value(data)  # DRF's own errors: not a list, empty
        read = {len(data) - 1}
        newest_user = next(
            (
                i
                for i in range(len(data) - 1, -1, -1)
                if isinstance(data[i], dict) and data[i].get("role") == "user"
            ),
            None,
        )
        if newest_user is not None:
            read.add(newest_user)
        messages: list[Any] = []
        errors: list[Any] = []
        for index, item in enumerate(data):
            if index in read:
                try:
                    messages.append(self.child.run_validation(item))  # type: ignore[union-attr]
                    errors.append({})
                except serializers.ValidationError as error:
                    errors.append(error.detail)
            else:
                problems = _shape_problems(item)
                messages.append(item)
                errors.append(problems)
        if any(errors):
            raise serializers.ValidationError(errors)
        return messages


def _shape_problems(item: Any) -> dict[str, list[str]]:
    """What is wrong with the shape of a message that is not read (an empty dict: nothing)."""
    if not isinstance(item, dict):
        return {"non_field_errors": ["Expected a message object."]}
    problems: dict[str, list[str]] = {}
    if item.get("role") not in ROLES:
        problems["role"] = [f"Expected one of {', '.join(ROLES)}."]
    parts = item.get("parts")
    if not isinstance(parts, list) or not all(
        isinstance(p, dict) and isinstance(p.get("type"), str) for p in parts
    ):
        problems["parts"] = ["Expected a list of parts, each an object with a type."]
    return problems


class UIMessageSerializer(serializers.Serializer[Any]):
    id = fields.CharField(max_length=200, required=False, allow_blank=True)
    role = serializers.ChoiceField(choices=list(ROLES))
    parts = PartSerializer(many=True)
    metadata = serializers.JSONField(required=False, allow_null=True)

    class Meta:
        list_serializer_class = UIMessageListSerializer


CHAT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")


class ChatInputSerializer(serializers.Serializer[Any]):
    id = fields.RegexField(rf"^{CHAT_ID.pattern}$", help_text="The chat id; it is the thread id.")
    messages = UIMessageSerializer(many=True, allow_empty=False)
    trigger = serializers.ChoiceField(
        choices=["submit-message", "regenerate-message"], default="submit-message"
    )
    messageId = fields.CharField(max_length=200, required=False, allow_null=True, allow_blank=True)
    model = fields.CharField(
        max_length=MODEL_NAME_MAX_LENGTH, required=False, allow_null=True, allow_blank=True
    )
    modelId = fields.CharField(
        max_length=MODEL_NAME_MAX_LENGTH,
        required=False,
        allow_null=True,
        allow_blank=True,
        help_text="The same as model.",
    )
    requireToolApproval = fields.BooleanField(
        required=False, default=False, help_text="Every tool call of this turn waits for a person's approval."
    )

    def validate_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        last_user = next((m for m in reversed(messages) if m["role"] == "user"), None)
        if last_user is None:
            raise serializers.ValidationError("There is no user message to answer.")
        if not newest_user_text(messages).strip():
            raise serializers.ValidationError("The newest user message has no text part.")
        last = messages[-1]
        for index, part in enumerate(last["parts"]):
            if last["role"] == "assistant" and part.get("state") == APPROVAL_RESPONDED:
                approval = part.get("approval") or {}
                if not part.get("toolCallId") or approval.get("approved") is None:
                    raise serializers.ValidationError(
                        f"Part {index} of the last message answers an approval without a toolCallId "
                        "or approval.approved."
                    )
        return messages


def approval_responses(messages: list[dict[str, Any]]) -> list[ChatDecision]:
    """The decisions a request carries: the AI SDK's `addToolApprovalResponse` leaves the tool parts
    of the last (assistant) message in state `approval-responded` and sends the chat again.

    The run is the one that streamed that message: its metadata's `runId`, else the message id
    (the run's `start` chunk gave the message the run's id).
    """
    last = messages[-1]
    if last["role"] != "assistant":
        return []
    run_id = (last.get("metadata") or {}).get("runId") or last.get("id") or ""
    return [
        ChatDecision(
            run_id=str(run_id),
            tool_call_id=part["toolCallId"],
            action="approve" if part["approval"]["approved"] else "decline",
            reason=part["approval"].get("reason") or "",
        )
        for part in last["parts"]
        if part.get("state") == APPROVAL_RESPONDED
    ]


def newest_user_text(messages: list[dict[str, Any]]) -> str:
    """With memory on, only the newest user message goes to the runtime; history comes from memory."""
    last_user = next(m for m in reversed(messages) if m["role"] == "user")
    return "".join(p.get("text", "") for p in last_user["parts"] if p["type"] == "text")


class WsTicketOutputSerializer(serializers.Serializer[Any]):
    ticket = serializers.CharField(help_text="Open the socket with `?ticket=<ticket>`; it opens one socket.")
    expiresAt = serializers.DateTimeField(help_text="After this the ticket opens nothing.")
    expiresInS = serializers.IntegerField(help_text="Seconds the ticket is valid (WS_TICKET_TTL_S).")


def newest_user_id(messages: list[dict[str, Any]]) -> str | None:
    """The client's id of the newest user message (the AI SDK's UIMessage id): a retry or a
    `regenerate-message` sends it again, and the stored message is kept instead of duplicated."""
    last_user = next(m for m in reversed(messages) if m["role"] == "user")
    return last_user.get("id") or None
