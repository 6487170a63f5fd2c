"""The workflow builder: typed steps and the graph they compose into.

A `Step` is a unit of work with a pydantic input and output model and a function
(sync or async) that receives its validated input and a `StepContext`. A `Workflow`
chains units with `.then`, `.parallel`, `.branch`, `.dowhile`, `.dountil`, `.foreach`,
`.map`, `.sleep` and `.sleep_until`; a workflow is itself a unit, so workflows nest.
`.commit()` freezes the graph, computes its content hash and registers it.

The graph holds no run state: `workflows.engine.plan` walks it against a run's journal.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


class WorkflowDefinitionError(Exception):
    """A workflow or step is defined wrongly (a developer mistake, raised at import time)."""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often a failing step runs again, separate from the model's own retries.

    `attempts` counts every run of the step (1: never retried). The n-th retry waits
    `backoff_s * 2**(n-1)` seconds (at most `max_backoff_s`), plus or minus `jitter` of it.
    Exceptions of a type in `non_retryable` fail the step at once; so does a validation error.
    """

    attempts: int = 1
    backoff_s: float = 1.0
    max_backoff_s: float = 300.0
    jitter: float = 0.2
    non_retryable: tuple[type[BaseException], ...] = ()

    def delay_s(self, failures: int, rand: float) -> float:
        """The wait before the next run after `failures` failures; `rand` is in [0, 1)."""
        base = min(self.backoff_s * 2 ** max(failures - 1, 0), self.max_backoff_s)
        return max(0.0, base * (1 + self.jitter * (2 * rand - 1)))


StepFunction = Callable[..., Any]


@dataclass(frozen=True, kw_only=True, eq=False)
class Step:
    """One typed unit of work. `at_most_once`: a run that may have been cut off mid-step
    (its worker died) fails visibly instead of running the step again."""

    id: str
    input_model: type[BaseModel]
    output_model: type[BaseModel]
    function: StepFunction
    description: str = ""
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout_s: float | None = None
    at_most_once: bool = False
    suspend_schema: type[BaseModel] | None = None
    resume_schema: type[BaseModel] | None = None
    kind: str = "step"
    # An approval step: the agent (slug) whose approvals list the step's decision.
    approval_agent: str = ""

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.function)

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "description": self.description,
            "inputSchema": self.input_model.model_json_schema(),
            "outputSchema": self.output_model.model_json_schema(),
            "suspendSchema": self.suspend_schema.model_json_schema() if self.suspend_schema else None,
            "resumeSchema": self.resume_schema.model_json_schema() if self.resume_schema else None,
            "retry": {"attempts": self.retry.attempts, "backoffS": self.retry.backoff_s},
            "timeoutS": self.timeout_s,
            "atMostOnce": self.at_most_once,
            **({"approvalAgent": self.approval_agent} if self.kind == "approval" else {}),
        }

    def fingerprint(self) -> dict[str, Any]:
        """What the content hash covers: schemas, policy and where the function lives."""
        return {
            **self.describe(),
            "function": f"{self.function.__module__}.{self.function.__qualname__}",
            "nonRetryable": [f"{t.__module__}.{t.__qualname__}" for t in self.retry.non_retryable],
        }


def step(
    *,
    id: str,
    input: type[BaseModel],
    output: type[BaseModel],
    description: str = "",
    retry: RetryPolicy | None = None,
    timeout_s: float | None = None,
    at_most_once: bool = False,
    suspend_schema: type[BaseModel] | None = None,
    resume_schema: type[BaseModel] | None = None,
) -> Callable[[StepFunction], Step]:
    """Turn `function(data, ctx) -> output` into a `Step`."""
    _check_id(id, "Step")
    if timeout_s is not None and timeout_s <= 0:
        raise WorkflowDefinitionError(f"Step {id!r}: timeout_s must be positive.")
    policy = retry or RetryPolicy()
    if policy.attempts < 1:
        raise WorkflowDefinitionError(f"Step {id!r}: retry attempts must be at least 1.")

    def wrap(function: StepFunction) -> Step:
        return Step(
            id=id,
            input_model=input,
            output_model=output,
            function=function,
            description=description or (inspect.getdoc(function) or "").split("\n")[0],
            retry=policy,
            timeout_s=timeout_s,
            at_most_once=at_most_once,
            suspend_schema=suspend_schema,
            resume_schema=resume_schema,
        )

    return wrap


def _check_id(value: str, what: str) -> None:
    if not _ID.match(value):
        raise WorkflowDefinitionError(f"{what} id {value!r} must match {_ID.pattern}.")


Condition = Callable[[Any], bool]
NodeKind = Literal["step", "parallel", "branch", "loop", "foreach", "map", "sleep"]


@dataclass(frozen=True, kw_only=True, eq=False)
class Node:
    """One position in a workflow's graph. `units` are the steps or nested workflows it runs."""

    kind: NodeKind
    id: str
    units: tuple[Step | Workflow, ...] = ()
    conditions: tuple[Condition, ...] = ()  # branch: one per unit; loop: one
    until: bool = False  # loop: dountil (stop when true) rather than dowhile (go on while true)
    max_iterations: int = 1000
    concurrency: int = 1  # foreach
    function: Callable[..., Any] | None = None  # map, sleep (seconds or datetime from data)
    seconds: float | None = None
    at: datetime | None = None

    def fingerprint(self) -> dict[str, Any]:
        def where(fn: Callable[..., Any] | None) -> str | None:
            return None if fn is None else f"{fn.__module__}.{fn.__qualname__}"

        return {
            "kind": self.kind,
            "id": self.id,
            "units": [u.fingerprint() for u in self.units],
            "conditions": [where(c) for c in self.conditions],
            "until": self.until,
            "maxIterations": self.max_iterations,
            "concurrency": self.concurrency,
            "function": where(self.function),
            "seconds": self.seconds,
            "at": self.at.isoformat() if self.at else None,
        }


class Workflow:
    """A typed, versioned graph of steps. Build it, then `.commit()` to register it.

    `version` names the definition explicitly; the content hash of the graph pins it,
    so a run started on one definition never continues on a different one.
    """

    kind = "workflow"

    def __init__(
        self,
        *,
        id: str,
        input: type[BaseModel],
        output: type[BaseModel],
        description: str = "",
        version: str = "1",
    ) -> None:
        _check_id(id, "Workflow")
        self.id = id
        self.input_model = input
        self.output_model = output
        self.description = description
        self.version = version
        self.nodes: list[Node] = []
        self.committed = False
        self._hash: str | None = None

    # -- composition -------------------------------------------------------------------
    def _add(self, node: Node) -> Workflow:
        if self.committed:
            raise WorkflowDefinitionError(f"Workflow {self.id!r} is committed; build a new version.")
        self.nodes.append(node)
        return self

    def then(self, unit: Step | Workflow) -> Workflow:
        return self._add(Node(kind="step", id=unit.id, units=(unit,)))

    def parallel(self, units: list[Step | Workflow]) -> Workflow:
        _distinct(units, self.id)
        return self._add(Node(kind="parallel", id="parallel", units=tuple(units)))

    def branch(self, branches: list[tuple[Condition, Step | Workflow]]) -> Workflow:
        """Run every unit whose condition holds on the data; the output maps unit id to output."""
        _distinct([u for _, u in branches], self.id)
        return self._add(
            Node(
                kind="branch",
                id="branch",
                units=tuple(u for _, u in branches),
                conditions=tuple(c for c, _ in branches),
            )
        )

    def dowhile(self, unit: Step | Workflow, condition: Condition, *, max_iterations: int = 1000) -> Workflow:
        """Run the unit, then again on its own output while `condition(output)` holds."""
        return self._add(
            Node(
                kind="loop", id=unit.id, units=(unit,), conditions=(condition,), max_iterations=max_iterations
            )
        )

    def dountil(self, unit: Step | Workflow, condition: Condition, *, max_iterations: int = 1000) -> Workflow:
        """Run the unit, then again on its own output until `condition(output)` holds."""
        return self._add(
            Node(
                kind="loop",
                id=unit.id,
                units=(unit,),
                conditions=(condition,),
                until=True,
                max_iterations=max_iterations,
            )
        )

    def foreach(self, unit: Step | Workflow, *, concurrency: int = 1) -> Workflow:
        """Run the unit once per item of the incoming list, at most `concurrency` at a time."""
        if concurrency < 1:
            raise WorkflowDefinitionError(f"Workflow {self.id!r}: foreach concurrency must be at least 1.")
        return self._add(Node(kind="foreach", id=unit.id, units=(unit,), concurrency=concurrency))

    def map(self, function: Callable[..., Any], *, id: str = "map") -> Workflow:
        """Reshape the data: `function(data, ctx)` with `ctx.init` (the run's input) and
        `ctx.step(id)` (a completed step's output). It must be deterministic."""
        _check_id(id, "Map")
        return self._add(Node(kind="map", id=id, function=function))

    def sleep(self, seconds: float | Callable[[Any], float], *, id: str = "sleep") -> Workflow:
        if callable(seconds):
            return self._add(Node(kind="sleep", id=id, function=seconds))
        return self._add(Node(kind="sleep", id=id, seconds=float(seconds)))

    def sleep_until(self, at: datetime | Callable[[Any], datetime], *, id: str = "sleep-until") -> Workflow:
        if callable(at):
            return self._add(Node(kind="sleep", id=id, function=at))
        if at.tzinfo is None:
            raise WorkflowDefinitionError("sleep_until needs a timezone-aware datetime.")
        return self._add(Node(kind="sleep", id=id, at=at))

    # -- identity ----------------------------------------------------------------------
    def fingerprint(self) -> dict[str, Any]:
        return {
            "kind": "workflow",
            "id": self.id,
            "input": self.input_model.model_json_schema(),
            "output": self.output_model.model_json_schema(),
            "nodes": [n.fingerprint() for n in self.nodes],
        }

    @property
    def graph_hash(self) -> str:
        """A content hash of the graph: schemas, node kinds, and where each function lives."""
        if self._hash is None or not self.committed:
            text = json.dumps(self.fingerprint(), sort_keys=True, default=str)
            self._hash = hashlib.sha256(text.encode()).hexdigest()[:16]
        return self._hash

    def commit(self) -> Workflow:
        """Freeze the graph and register it (a nested workflow need not be registered)."""
        from workflows.registry import registry

        if not self.nodes:
            raise WorkflowDefinitionError(f"Workflow {self.id!r} has no steps.")
        self.committed = True
        registry.register(self)
        return self

    def steps(self) -> list[Step]:
        """Every step of the graph, nested workflows included."""
        found: list[Step] = []
        for node in self.nodes:
            for unit in node.units:
                found.extend(unit.steps() if isinstance(unit, Workflow) else [unit])
        return found

    def describe(self) -> dict[str, Any]:
        """The definition as `GET /api/workflows/{id}` shows it."""
        return {
            "id": self.id,
            "name": self.id,
            "description": self.description,
            "version": self.version,
            "graphHash": self.graph_hash,
            "inputSchema": self.input_model.model_json_schema(),
            "outputSchema": self.output_model.model_json_schema(),
            "steps": {s.id: s.describe() for s in self.steps()},
            "stepGraph": [_describe_node(n) for n in self.nodes],
        }

    def __repr__(self) -> str:
        return f"<Workflow {self.id} v{self.version}>"


def _describe_node(node: Node) -> dict[str, Any]:
    units = [
        {"type": "workflow", "id": u.id, "stepGraph": [_describe_node(n) for n in u.nodes]}
        if isinstance(u, Workflow)
        else {"type": "step", "id": u.id}
        for u in node.units
    ]
    shown: dict[str, Any] = {"type": node.kind, "id": node.id, "steps": units}
    if node.kind == "foreach":
        shown["concurrency"] = node.concurrency
    if node.kind == "loop":
        shown["loopType"] = "dountil" if node.until else "dowhile"
    if node.kind == "sleep":
        shown["duration"] = node.seconds
        shown["until"] = node.at.isoformat() if node.at else None
    return shown


def _distinct(units: list[Step | Workflow], workflow_id: str) -> None:
    ids = [u.id for u in units]
    if len(set(ids)) != len(ids):
        raise WorkflowDefinitionError(f"Workflow {workflow_id!r}: units side by side need distinct ids.")
    if not ids:
        raise WorkflowDefinitionError(f"Workflow {workflow_id!r}: a parallel or branch needs units.")
