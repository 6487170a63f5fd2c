"""What a chat WebSocket client may send, validated with pydantic.

Every frame is held to the REST API's input rules: no string anywhere in it (a field, a key
or a value at any depth of `inputData` or `resumeData`) may hold text the database cannot
store (`core.api.text`), and every number is bounded.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from agents.limits import MODEL_NAME_MAX_LENGTH
from core.api.fields import INT_MAX
from core.api.text import unsafe_text_details

ThreadId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")]
RunId = Annotated[str, Field(min_length=1, max_length=64)]


class _Frame(BaseModel):
    # Strict: `true` is a boolean and `3` an integer, never `"yes"`, `1` or `3.0` (docs/api.md).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True)


class MessageFrame(_Frame):
    type: Literal["message"]
    thread_id: ThreadId = Field(alias="threadId")
    text: Annotated[str, Field(min_length=1, max_length=100_000)]
    model: Annotated[str, Field(max_length=MODEL_NAME_MAX_LENGTH)] | None = None
    client_id: str | None = Field(default=None, alias="clientId", max_length=200)
    # Every tool call of this turn waits for a person's approval (`requireToolApproval`).
    require_tool_approval: bool = Field(default=False, alias="requireToolApproval")


class SubscribeFrame(_Frame):
    type: Literal["subscribe"]
    thread_id: ThreadId = Field(alias="threadId")


class ReplayFrame(_Frame):
    type: Literal["replay"]
    thread_id: ThreadId = Field(alias="threadId")
    run_id: RunId = Field(alias="runId")
    after_seq: Annotated[int, Field(ge=0, le=INT_MAX)] = Field(alias="afterSeq")


class AbortFrame(_Frame):
    type: Literal["abort"]
    thread_id: ThreadId = Field(alias="threadId")
    run_id: RunId = Field(alias="runId")


ToolCallId = Annotated[str, Field(min_length=1, max_length=200)]


class DecisionFrame(_Frame):
    """Approve or decline a tool call of a suspended run (Mastra's `{runId, toolCallId, reason?}`)."""

    type: Literal["approve", "decline"]
    thread_id: ThreadId = Field(alias="threadId")
    run_id: RunId = Field(alias="runId")
    tool_call_id: ToolCallId = Field(alias="toolCallId")
    reason: Annotated[str, Field(max_length=2000)] | None = None


class ResumeFrame(_Frame):
    """Resume a tool call that suspended itself, with data for its resume schema."""

    type: Literal["resume"]
    thread_id: ThreadId = Field(alias="threadId")
    run_id: RunId = Field(alias="runId")
    tool_call_id: ToolCallId = Field(alias="toolCallId")
    resume_data: Any = Field(alias="resumeData")


WorkflowId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class WorkflowStartFrame(_Frame):
    """Start a run of a workflow as the socket's user (optionally for a chat thread); the run's
    events follow as `workflow-event` frames, as after `workflow-watch` from 0."""

    type: Literal["workflow-start"]
    workflow_id: WorkflowId = Field(alias="workflowId")
    input_data: Any = Field(alias="inputData")
    thread_id: ThreadId | None = Field(default=None, alias="threadId")


class WorkflowWatchFrame(_Frame):
    """Follow a workflow run's numbered events after `offset` (resume after a reconnect with the
    last `seq` received); the last frame sent is the run's terminal event."""

    type: Literal["workflow-watch"]
    run_id: RunId = Field(alias="runId")
    offset: Annotated[int, Field(ge=0, le=10**9)] = 0


class WorkflowResumeFrame(_Frame):
    """Resume one suspension of a workflow run (`step`: its path or step id); an approval step's
    `resumeData` is `{approved, reason}` and decides its approval."""

    type: Literal["workflow-resume"]
    run_id: RunId = Field(alias="runId")
    step: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    resume_data: Any = Field(default=None, alias="resumeData")


ClientFrame = (
    MessageFrame
    | SubscribeFrame
    | ReplayFrame
    | AbortFrame
    | DecisionFrame
    | ResumeFrame
    | WorkflowStartFrame
    | WorkflowWatchFrame
    | WorkflowResumeFrame
)
_adapter: TypeAdapter[ClientFrame] = TypeAdapter(Annotated[ClientFrame, Field(discriminator="type")])


_FRAME_TYPES = frozenset(
    tag for frame in get_args(ClientFrame) for tag in get_args(frame.model_fields["type"].annotation)
)


def parse_client_frame(content: Any) -> ClientFrame:
    """Validate one frame; raises pydantic's ValidationError naming each problem.

    Strings that cannot be stored are refused first, wherever they are, each at its path
    under the frame's type as pydantic names a field (`message.text`, `workflow-start.inputData.topic`).
    """
    # A frame that is not an object is pydantic's to refuse.
    unsafe = unsafe_text_details(content) if isinstance(content, dict) else {}
    if unsafe:
        tag = content.get("type")
        prefix = (tag,) if tag in _FRAME_TYPES else ()
        raise ValidationError.from_exception_data(
            "ClientFrame",
            [
                InitErrorDetails(
                    type=PydanticCustomError("unsafe_text", problem), loc=(*prefix, path), input=None
                )
                for path, problems in unsafe.items()
                for problem in problems
            ],
        )
    return _adapter.validate_python(content)
