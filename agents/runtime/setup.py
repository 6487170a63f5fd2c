"""Everything a run needs before its first model call, gathered once."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.conf import settings

from agents.providers.config import ModelRef
from agents.providers.resolution import chain_resolve
from agents.runtime.memory_hooks import MemorySession, memory_config, memory_enabled, memory_open
from agents.runtime.persistence import QueuedWrites, Replay, RunRecord, run_begin
from agents.runtime.request_context import request_context_build
from agents.runtime.spec import AgentSpec, agent_spec_load, agent_spec_version
from agents.runtime.state import StepCall
from agents.runtime.turn import Turn
from agents.runtime.types import MemoryOptions, RunOptions, RunResult
from agents.tools.registry import ToolDefinition, registry
from agents.tools.toolkits import tools_compose
from core.context import RequestContext
from core.errors import Disabled, Forbidden, PlatformError, ValidationFailed
from observability.redaction import scrub_text
from observability.tracing import Span, Trace, trace_start

_ROLES = frozenset({"user", "assistant", "system"})


@dataclass(kw_only=True)
class RunSetup:
    run_id: uuid.UUID
    spec: AgentSpec
    context: RequestContext
    chain: list[ModelRef]
    turn: Turn
    trace: Trace
    run_span: Span
    started_at: datetime
    input_payload: dict[str, Any]
    thread_id: str
    memory: MemoryOptions | None
    inserted: bool = False  # the run's row is known to be committed
    # The run's row (queued at its start) and checkpoints, queued to the run-record writer.
    writes: QueuedWrites | None = None
    # The stored outcome of an earlier run with the same idempotency key, found by `run_setup`
    # (with memory, before the user's message would be saved again).
    replay: Replay | None = None
    streaming: bool = False
    memory_session: MemorySession | None = None
    # The step in progress (its tool calls, gates and recorded outcomes), and, in a
    # continuation, the decisions taken on its gates (tool call id -> decision).
    step_calls: list[StepCall] = field(default_factory=list)
    decisions: dict[str, GateDecision] = field(default_factory=dict)
    model: str = ""  # the model that answered last
    resumed: bool = False  # a continuation of a suspended run
    watched: str = ""  # the run id while its cancel signal is followed (`agents.runtime.cancel`)
    # The run's outcome, set by the driver: a result (completed or suspended) or the error.
    result: RunResult | None = None
    error: PlatformError | None = None

    @property
    def tool_ids(self) -> dict[str, Any]:
        return {
            "agent_id": self.spec.slug,
            "run_id": str(self.run_id),
            "thread_id": self.thread_id or None,
            "model": self.chain[0].id,
        }

    @property
    def record(self) -> RunRecord:
        """What the run's row is made of (`agents.runtime.persistence`)."""
        return RunRecord(
            run_id=self.run_id,
            spec=self.spec,
            context=self.context,
            thread_id=self.thread_id,
            input_payload=self.input_payload,
            trace=self.trace,
            started_at=self.started_at,
        )

    @property
    def chain_position(self) -> int:
        names = [ref.id for ref in self.chain]
        return names.index(self.model) if self.model in names else 0


@dataclass(frozen=True, kw_only=True, slots=True)
class GateDecision:
    """What was decided on one gated call: approved, declined, expired, cancelled or resumed."""

    gate_id: str
    status: str
    reason: str = ""
    resume_data: Any = None
    decided_by: int | None = None


def input_messages(prompt: str | None, messages: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    """The run's new messages, with known secret values scrubbed: a configured key pasted
    into a chat reaches neither the model, nor memory, nor the run record."""
    return [
        {**message, "content": scrub_text(message["content"])}
        for message in _input_messages(prompt, messages)
    ]


def _input_messages(prompt: str | None, messages: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]]:
    if prompt is not None and messages:
        raise ValidationFailed(
            "Send either prompt or messages, not both.", details={"prompt": ["Ambiguous input."]}
        )
    if prompt is not None:
        if not prompt.strip():
            raise ValidationFailed(
                "The prompt is empty.", details={"prompt": ["This field may not be blank."]}
            )
        return [{"role": "user", "content": prompt}]
    if not messages:
        raise ValidationFailed("Send a prompt or at least one message.", details={"messages": ["Required."]})
    result = []
    for index, message in enumerate(messages):
        role, content = message.get("role"), message.get("content")
        if role not in _ROLES or not isinstance(content, str):
            raise ValidationFailed(
                "Each message needs a role (user, assistant or system) and text content.",
                details={"messages": {str(index): ["Invalid role or content."]}},
            )
        result.append({"role": role, "content": content})
    return result


def model_names(spec: AgentSpec, override: str | None) -> tuple[str, tuple[str, ...]]:
    """The chain's names: the override (where the agent allows one), the agent's model or the
    settings default (empty: the catalogue is walked), then the agent's fallbacks."""
    if override and override != spec.model and not spec.allow_model_override:
        raise Forbidden(
            f"Agent {spec.slug!r} does not allow choosing the model per request.",
            details={"model": [override], "agent": spec.slug},
        )
    return override or spec.model or settings.DEFAULT_MODEL, spec.fallback_models


def model_chain(spec: AgentSpec, override: str | None) -> list[ModelRef]:
    """The models to try, resolved against what the providers list (`agents.providers.resolution`)."""
    primary, fallbacks = model_names(spec, override)
    named = [n for n in (primary, *fallbacks) if n and not n.startswith("tier:")]
    if named and len(named) == len(fallbacks) + 1 and all(spec.route_disabled(n) for n in named):
        raise Disabled(f"Model route {primary!r} is disabled by an operator.", details={"model": primary})
    chain = chain_resolve(primary, fallbacks)
    enabled = [ref for ref in chain if not spec.route_disabled(ref.id)]
    if not enabled:
        raise Disabled(
            f"Model route {chain[0].id!r} is disabled by an operator.", details={"model": chain[0].id}
        )
    return enabled


def allowed_tools(spec: AgentSpec) -> dict[str, ToolDefinition]:
    """The tools offered to the model, by the name the model sees: the agent's allowlist, its
    toolkits (renamed or prefixed) and the ambient tools it neither excludes nor shadows
    (`agents.tools.toolkits`). A tool an operator switched off is left out under any name;
    approval switches travel with the definition, so they hold under any name too."""
    composition = tools_compose(
        explicit=spec.tool_ids, uses=spec.toolkits, ambient_exclude=spec.ambient_exclude
    )
    tools = {}
    for tool in composition.tools:
        definition = registry.get(tool.tool_id)
        if definition is not None and tool.tool_id not in spec.disabled_tools:
            tools[tool.name] = definition
    return tools


def run_setup(
    agent_id: str,
    *,
    context: RequestContext,
    prompt: str | None,
    messages: Sequence[Mapping[str, Any]] | None,
    memory: MemoryOptions | None,
    options: RunOptions,
    spec: AgentSpec | None = None,
) -> RunSetup:
    """Load the agent (unless `spec` is given; `options.agent_version`: that stored version),
    check the request, open the trace.

    Raises platform errors for bad input. Without memory and with `spec` given, it does
    no database I/O (the async entry points then call it on the event loop).
    """
    if spec is None:
        spec = agent_spec_load(slug=agent_id, tenant_id=context.tenant_id)
    if options.agent_version is not None:
        spec = agent_spec_version(spec, options.agent_version)
    run_context = request_context_build(
        tenant_id=context.tenant_id,
        user_id=context.user_id,
        resource_id=context.resource_id,
        client_values=context.values,
        schema=spec.request_context_schema,
    ).with_resources(**context.resources)
    new_messages = input_messages(prompt, messages)
    if memory is not None and memory.optional and not memory_enabled(spec):
        memory = None  # the chat's thread, for an agent that keeps none: a stateless run
    if memory is not None:
        memory_config(spec)  # refused before anything is written when the agent has memory off
    chain = model_chain(spec, options.model)
    run_id = uuid.UUID(options.run_id) if options.run_id else uuid.uuid4()
    thread_id = memory.thread_id if memory is not None else ""
    trace = trace_start(
        name=f"agent.run {spec.slug}",
        tenant_id=context.tenant_id,
        owner_id=context.user_id,
        run_id=str(run_id),
    )
    run_span = trace.start_span(
        "agent.run",
        kind="run",
        agent_id=spec.slug,
        agent_version=spec.version,
        model=chain[0].id,
        thread_id=thread_id,
    )
    tools = allowed_tools(spec)
    model_messages: list[dict[str, Any]] = [{"role": "system", "content": spec.instructions}, *new_messages]
    memory_session = None
    started_at = datetime.now(UTC)
    input_payload = {"messages": new_messages, "requestContext": dict(run_context.values)}
    replay: Replay | None = None
    inserted = False
    if memory is not None and options.idempotency_key:
        # Looked up (or this run inserted) before memory is touched: a replay stores nothing.
        record = RunRecord(
            run_id=run_id,
            spec=spec,
            context=run_context,
            thread_id=thread_id,
            input_payload=input_payload,
            trace=trace,
            started_at=started_at,
        )
        replay = run_begin(record, idempotency_key=options.idempotency_key)
        inserted = replay is None
    if memory is not None and replay is None:
        waiting = _thread_waiting(
            spec=spec,
            options=options,
            context=run_context,
            memory=memory,
            new_messages=new_messages,
            chain=chain,
        )
        if isinstance(waiting, RunSetup):
            return waiting  # the thread's suspended run, resumed from this message
        with trace.span("memory.load", kind="memory", thread_id=thread_id) as span:
            memory_session, model_messages = memory_open(
                spec=spec, context=run_context, memory=memory, new_messages=new_messages, run_id=str(run_id)
            )
            span.set(history_messages=len(model_messages) - len(new_messages) - 1)
        if waiting:  # the suspended tool still waits: the model asks again
            model_messages.append({"role": "system", "content": waiting})
    turn = Turn(spec=spec, messages=model_messages, tools=tools, options=options)
    return RunSetup(
        run_id=run_id,
        spec=spec,
        context=run_context,
        chain=chain,
        turn=turn,
        trace=trace,
        run_span=run_span,
        started_at=started_at,
        input_payload=input_payload,
        thread_id=thread_id,
        memory=memory,
        memory_session=memory_session,
        inserted=inserted,
        replay=replay,
    )


def _thread_waiting(
    *,
    spec: AgentSpec,
    options: RunOptions,
    context: RequestContext,
    memory: MemoryOptions,
    new_messages: list[dict[str, Any]],
    chain: list[ModelRef],
) -> RunSetup | str | None:
    """What waits on the thread, before a new message is saved: auto-resumed (the continuation),
    still waiting (a note for the model to ask again), or declined (None, and the thread is free).

    Nearly always one indexed query that finds nothing.
    """
    from agents.runtime.auto_resume import AskAgain, auto_resume  # both import this module
    from agents.runtime.resume import thread_waiting_release

    resource_id = memory.resource_id or context.resource_id or ""
    enabled = (
        spec.auto_resume
        if options.auto_resume_suspended_tools is None
        else options.auto_resume_suspended_tools
    )
    text = next((m["content"] for m in reversed(new_messages) if m["role"] == "user"), "")
    if enabled:
        outcome = auto_resume(
            enabled=True,
            context=context,
            thread_id=memory.thread_id,
            resource_id=resource_id,
            text=text,
            chain=chain,
            tools=allowed_tools(spec),
        )
        if isinstance(outcome, AskAgain):
            return outcome.note
        if outcome is not None:
            return outcome
    # A conversation is never blocked by a call that waits: a new message declines it first.
    thread_waiting_release(tenant_id=context.tenant_id, thread_id=memory.thread_id, resource_id=resource_id)
    return None
