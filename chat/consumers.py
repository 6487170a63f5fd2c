"""The chat WebSocket: `/ws/agents/<agentId>/`.

Client frames: `message` (start a run), `subscribe` (follow a thread's runs),
`replay` (frames of a run after a sequence number), `abort`, and the
human-in-the-loop frames `approve` and `decline` (a tool call waiting for approval)
and `resume` (resume data for a tool that suspended itself); for workflow runs
(`workflows.socket`) `workflow-start`, `workflow-watch` (numbered events from an
offset, to the terminal one) and `workflow-resume`. Server frames wrap
the AI SDK chunk untouched: `{"type": "chunk", "runId", "threadId", "seq",
"chunk"}`, then `{"type": "run-end", ...}`; a decision that continues its run is
answered `run-resumed` and the continuation's frames follow (numbered on from the
run's last), one that leaves other calls waiting `decision-recorded`. Protocol
problems come back as `{"type": "error", "code", "message", "details"}` (with
`runId` and `toolCallId` for a decision) and the socket stays open.
Close codes, the frame limit and the heartbeat live in `chat.transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from pydantic import ValidationError
from redis.exceptions import RedisError

from chat import transport
from chat.frames import (
    ClientFrame,
    DecisionFrame,
    MessageFrame,
    ResumeFrame,
    WorkflowResumeFrame,
    WorkflowStartFrame,
    WorkflowWatchFrame,
    parse_client_frame,
)
from chat.runs import (
    replay_after,
    replay_run_state,
    run_abort,
    run_continue,
    run_for,
    run_start,
    thread_group,
)
from chat.runtime import ChatDecision, chat_runtime
from chat.services import chat_cancel, chat_decide, chat_request, chat_turn_check
from core.access import Actor, actor_for_user
from core.api import jsoninput
from core.api.jsoninput import JSONTooDeep
from core.errors import Conflict, PlatformError

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = transport.CLOSE_UNAUTHENTICATED
CLOSE_UNKNOWN_AGENT = transport.CLOSE_UNKNOWN_AGENT


class AgentChatConsumer(AsyncJsonWebsocketConsumer):
    groups_joined: set[str]
    forwarding: set[asyncio.Task[None]]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # A failure anywhere (a handler, the channel layer's receive) closes the socket with a
        # code and a reason instead of the server's bare 1011.
        self.groups_joined, self.forwarding = set(), set()
        self.workflow_watches: dict[str, asyncio.Task[None]] = {}
        try:
            await super().__call__(scope, receive, send)
        except Exception as exc:
            logger.exception("chat socket failed")
            self._stop_tasks()
            close = transport.BUS_UNAVAILABLE if isinstance(exc, RedisError) else transport.INTERNAL_ERROR
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": close.code, "reason": close.reason})
            with contextlib.suppress(Exception):  # the bus may be what failed
                for group in self.groups_joined:
                    await self.channel_layer.group_discard(group, self.channel_name)

    async def connect(self) -> None:
        user = self.scope.get("user")
        self.agent_id: str = self.scope["url_route"]["kwargs"]["agent_id"]
        self.local_runs: set[str] = set()  # runs this socket started: their frames come from the run
        self.threads_checked: set[str] = set()  # threads a turn of this socket may use (`_turn_check`)
        # The last frame each run sent this socket directly: the same frames arriving through the
        # thread's group afterwards are not sent again (a continuation of the run elsewhere is).
        self.local_upto: dict[str, int] = {}
        # A close before the handshake completes reaches the browser as a bare HTTP 403;
        # accepting first lets the client read the application close code and reason.
        if user is None or not user.is_authenticated:
            await self._refuse(transport.unauthenticated(self.scope.get("auth_error")))
            return
        actor = await database_sync_to_async(_actor_with_agent)(user=user, agent_id=self.agent_id)
        if actor is None:
            await self._refuse(transport.unknown_agent(self.agent_id))
            return
        self.user = user
        self.actor: Actor = actor
        self.tenant_id = actor.tenant_id
        subprotocol = next((p for p in self.scope.get("subprotocols", []) if p.startswith("token.")), None)
        await self.accept(subprotocol=subprotocol)
        self._spawn(transport.heartbeat(self.send_json))

    async def _refuse(self, close: transport.Close) -> None:
        await self.accept()
        await self.close(code=close.code, reason=close.reason)

    async def disconnect(self, code: int) -> None:
        # Runs are not tied to the socket: they finish and are persisted without it.
        self._stop_tasks()
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.forwarding.add(task)
        task.add_done_callback(self.forwarding.discard)

    def _stop_tasks(self) -> None:
        for task in list(self.forwarding):
            task.cancel()

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if text_data is None:
            await self._error(
                "invalid_frame", "Frames are JSON text.", {"frame": ["Binary frames are not accepted."]}
            )
            return
        size = transport.oversize(text_data)
        if size is not None:
            error, close = transport.frame_too_large(size)
            await self.send_json(error)
            await self.close(code=close.code, reason=close.reason)
            return
        await self.receive_json(await self.decode_json(text_data))

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if isinstance(content, _NotJson):
            await self._error("invalid_frame", "The frame is not JSON.", {"frame": [content.problem]})
            return
        try:
            frame = parse_client_frame(content)
        except ValidationError as exc:
            details = {".".join(str(p) for p in e["loc"]) or "frame": [e["msg"]] for e in exc.errors()}
            await self._error("invalid_frame", "The frame is malformed.", details)
            return
        try:
            await self._route(frame)
        except PlatformError as exc:
            await self.send_json({"type": "error", **exc.as_dict()})

    async def _route(self, frame: ClientFrame) -> None:
        if frame.type == "message":
            # The check's query and the group's join overlap (a refused turn leaves the socket
            # in its own user's group for that thread id, which is harmless).
            outcomes = await asyncio.gather(
                self._turn_check(frame), self._join(frame.thread_id), return_exceptions=True
            )
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
            # Tenant and agent were checked at connect, model and thread just now; a run of an
            # agent removed since then ends with the runtime's own `error` chunk.
            request = chat_request(
                tenant_id=self.tenant_id,
                user_id=self.user.pk,
                agent_id=self.agent_id,
                thread_id=frame.thread_id,
                text=frame.text,
                model=frame.model,
                client_message_id=frame.client_id,
                require_tool_approval=frame.require_tool_approval,
            )
            run = run_start(request=request, group=self._group(frame.thread_id))
            # This socket reads its own run straight from the process (one hop fewer than the
            # channel layer, which still carries the frames to the thread's other tabs).
            frames = run.subscribe()
            self.local_runs.add(run.run_id)
            await self.send_json(
                {
                    "type": "run-started",
                    "runId": run.run_id,
                    "threadId": run.thread_id,
                    "clientId": frame.client_id,
                }
            )
            self._spawn(self._forward(run.run_id, frames))
        elif frame.type == "subscribe":
            await self._join(frame.thread_id)
            await self.send_json({"type": "subscribed", "threadId": frame.thread_id})
        elif frame.type == "replay":
            await self._join(frame.thread_id)
            kept = await replay_after(user_id=self.user.pk, run_id=frame.run_id, after_seq=frame.after_seq)
            if kept is None:
                await self._run_not_found(frame.run_id)
            for item in kept or []:
                await self.send_json(item)
        elif frame.type == "abort":
            await self._abort(thread_id=frame.thread_id, run_id=frame.run_id)
        elif isinstance(frame, WorkflowStartFrame | WorkflowWatchFrame | WorkflowResumeFrame):
            await self._workflow(frame)
        else:
            await self._decide(frame)

    async def _turn_check(self, frame: MessageFrame) -> None:
        """Refuse a turn the runtime would refuse before its first event (a PlatformError, answered
        as an error frame), so `run-started` only ever names a run that exists. A thread that passed
        on this socket is not looked up again: the runtime still checks it, this only answers early."""
        if not frame.model and frame.thread_id in self.threads_checked:
            return
        await database_sync_to_async(chat_turn_check)(
            tenant_id=self.tenant_id,
            user_id=self.user.pk,
            agent_id=self.agent_id,
            thread_id=frame.thread_id,
            model=frame.model,
        )
        self.threads_checked.add(frame.thread_id)

    async def _workflow(self, frame: WorkflowStartFrame | WorkflowWatchFrame | WorkflowResumeFrame) -> None:
        """Workflow runs on this socket (`workflows.socket`): the REST API's owner model."""
        from workflows import socket as wf

        if isinstance(frame, WorkflowResumeFrame):
            answer = await database_sync_to_async(wf.resume)(
                actor=self.actor, run_id=frame.run_id, step=frame.step, resume_data=frame.resume_data
            )
            await self.send_json(answer)
            return
        if isinstance(frame, WorkflowStartFrame):
            run = await database_sync_to_async(wf.start)(
                actor=self.actor,
                workflow_id=frame.workflow_id,
                input_data=frame.input_data,
                thread_id=frame.thread_id,
            )
            offset = 0
            await self.send_json(
                {
                    "type": "workflow-started",
                    "runId": str(run.pk),
                    "workflowId": run.workflow_id,
                    "threadId": frame.thread_id,
                }
            )
        else:
            run = await database_sync_to_async(wf.run_for_watch)(actor=self.actor, run_id=frame.run_id)
            offset = frame.offset
        previous = self.workflow_watches.pop(str(run.pk), None)
        if previous is not None:  # a watch again (after a reconnect elsewhere): one stream per run
            previous.cancel()
        task = asyncio.get_running_loop().create_task(self._workflow_forward(wf.watch(run, offset=offset)))
        self.workflow_watches[str(run.pk)] = task
        self.forwarding.add(task)
        task.add_done_callback(self.forwarding.discard)

    async def _workflow_forward(self, frames: AsyncIterator[dict[str, Any]]) -> None:
        async for frame in frames:
            await self.send_json(frame)

    async def _decide(self, frame: DecisionFrame | ResumeFrame) -> None:
        """Record the decision; when it was the last the run waited on, continue the run here."""
        decision = ChatDecision(
            run_id=frame.run_id,
            tool_call_id=frame.tool_call_id,
            action=frame.type,
            reason=(frame.reason or "") if isinstance(frame, DecisionFrame) else "",
            resume_data=frame.resume_data if isinstance(frame, ResumeFrame) else None,
        )
        about = {"runId": frame.run_id, "threadId": frame.thread_id, "toolCallId": frame.tool_call_id}
        try:
            outcome = await database_sync_to_async(chat_decide)(
                actor=self.actor, agent_id=self.agent_id, decision=decision
            )
        except PlatformError as exc:
            await self.send_json({"type": "error", **exc.as_dict(), **about})
            return
        if not outcome.ready:
            await self.send_json({"type": "decision-recorded", **about, "decision": outcome.gate})
            return
        await self._join(frame.thread_id)
        request = chat_request(
            tenant_id=self.tenant_id,
            user_id=self.user.pk,
            agent_id=self.agent_id,
            thread_id=frame.thread_id,
            text="",
            model=None,
        )
        run = await run_continue(
            request=replace(request, run_id=outcome.run_id, continuation=outcome),
            group=self._group(frame.thread_id),
        )
        frames = run.subscribe()
        self.local_runs.add(run.run_id)
        await self.send_json({"type": "run-resumed", **about, "afterSeq": run.seq, "decision": outcome.gate})
        self._spawn(self._forward(run.run_id, frames))

    async def _abort(self, *, thread_id: str, run_id: str) -> None:
        if run_for(run_id=run_id, actor=self.actor) is not None:  # in this process, and the caller's
            if not run_abort(run_id=run_id, actor=self.actor):
                await self._run_ended()
            return
        state = await replay_run_state(user_id=self.user.pk, run_id=run_id)
        if state == "running":
            # The run is consumed by another process: cancel it there (its row, then its signal).
            try:
                await database_sync_to_async(chat_cancel)(actor=self.actor, run_id=run_id)
            except Conflict:
                await self._run_ended()
        elif state == "ended":
            await self._run_ended()
        else:
            await self._run_not_found(run_id)

    async def _run_ended(self) -> None:
        await self._error("conflict", "The run has already ended.", {"runId": ["The run has ended."]})

    async def _run_not_found(self, run_id: str) -> None:
        await self._error("not_found", f"No run '{run_id}'.", {"runId": ["Not found."]})

    def _group(self, thread_id: str) -> str:
        return thread_group(user_id=self.user.pk, thread_id=thread_id)

    async def _join(self, thread_id: str) -> None:
        group = self._group(thread_id)
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _error(self, code: str, message: str, details: dict[str, Any]) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, "details": details})

    async def _forward(self, run_id: str, frames: AsyncIterator[dict[str, Any]]) -> None:
        last = 0
        try:
            async for frame in frames:
                await self.send_json(frame)
                last = frame["seq"]
        finally:
            self.local_runs.discard(run_id)
            self.local_upto[run_id] = max(last, self.local_upto.get(run_id, 0))

    # -- channel-layer handlers -------------------------------------------
    async def chat_frame(self, event: dict[str, Any]) -> None:
        frame = event["frame"]
        run_id = frame.get("runId")
        if run_id in self.local_runs:
            return  # this socket reads the run directly
        seq = frame.get("seq")
        if seq is not None and seq <= self.local_upto.get(run_id, 0):
            return  # already sent
        await self.send_json(event["frame"])

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return jsoninput.loads(text_data)
        except JSONTooDeep as exc:
            return _NotJson(problem=str(exc))
        except ValueError:
            return _NotJson()


@dataclass(frozen=True, kw_only=True)
class _NotJson:
    """Marks a text frame that is not JSON (or nested too deeply), so it is answered like any malformed frame."""

    problem: str = "Not valid JSON."


def _actor_with_agent(*, user: Any, agent_id: str) -> Actor | None:
    """The user as an actor, when the user's tenant may use the agent; None otherwise."""
    actor = actor_for_user(user)
    return actor if chat_runtime().agent_exists(agent_id=agent_id, tenant_id=actor.tenant_id) else None
