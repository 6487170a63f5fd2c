"""The coordinator: a pure walk of a workflow's graph against a run's journal.

Given the definition, the run's input and what the journal says about each step path, it
decides what happens next (steps to run, sleeps to start, joins to count, the output when
all is done, or the failure that ends the run), without any I/O. The driver
(`workflows.engine.driver`) performs the plan and commits its results; walking again after
every commit is how a run continues anywhere from its last completed step.

Step paths name every unit exactly: `1:fetch`, `2:parallel/a`, `3:review[1]` (iteration 1
of a for-each or loop), `4:sub/0:x` (a step of a nested workflow).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from workflows.definition import Node, Step, Workflow


class _Pending:
    def __repr__(self) -> str:
        return "PENDING"


PENDING: Any = _Pending()


@dataclass(kw_only=True)
class PathRecord:
    """What the journal says about one step path in the run's current generation."""

    has_output: bool = False
    output: Any = None
    input: Any = None
    failures: int = 0
    last_error: dict[str, Any] | None = None
    non_retryable: bool = False
    abandoned: bool = False
    suspension: str | None = None  # "open" or "resumed" (the latest suspension)
    resume_data: Any = None
    retry_pending: bool = False
    sleep_pending: bool = False


@dataclass(frozen=True, kw_only=True)
class Execute:
    path: str
    step: Step
    input: Any
    number: int
    resume_data: Any = None
    resumed: bool = False


@dataclass(frozen=True, kw_only=True)
class SleepRequest:
    path: str
    wake_at: datetime
    data: Any


@dataclass(frozen=True, kw_only=True)
class Join:
    path: str
    expected: int
    completed: int


@dataclass(frozen=True, kw_only=True)
class Failure:
    path: str
    error: dict[str, Any]


@dataclass(kw_only=True)
class Plan:
    done: bool = False
    output: Any = None
    failure: Failure | None = None
    execute: list[Execute] = field(default_factory=list)
    sleeps: list[SleepRequest] = field(default_factory=list)
    joins: list[Join] = field(default_factory=list)
    suspended: list[str] = field(default_factory=list)
    timers_pending: bool = False


@dataclass(frozen=True, kw_only=True)
class MapContext:
    """What a `.map()` function may read besides the data: the run's input and completed steps."""

    init: Any
    journal: dict[str, PathRecord]

    def step(self, step_id: str) -> Any:
        """The output of the first completed step of this id (None if none completed)."""
        for path, record in self.journal.items():
            last = path.rsplit("/", 1)[-1].split(":", 1)[-1].split("[", 1)[0]
            if last == step_id and record.has_output:
                return record.output
        return None


def _error(exc: BaseException, code: str) -> dict[str, Any]:
    return {"code": code, "type": type(exc).__name__, "message": str(exc)[:2000]}


class _Walker:
    def __init__(self, journal: dict[str, PathRecord], plan: Plan, *, now: datetime, init: Any) -> None:
        self.journal = journal
        self.plan = plan
        self.now = now
        self.init = init

    def fail(self, path: str, error: dict[str, Any]) -> Any:
        if self.plan.failure is None:
            self.plan.failure = Failure(path=path, error=error)
        return PENDING

    def nodes(self, nodes: list[Node], data: Any, prefix: str) -> Any:
        for index, node in enumerate(nodes):
            data = self.node(node, data, f"{prefix}{index}:{node.id}")
            if data is PENDING:
                return PENDING
        return data

    def unit(self, unit: Step | Workflow, data: Any, path: str) -> Any:
        if isinstance(unit, Workflow):
            return self.nodes(unit.nodes, data, path + "/")
        return self.leaf(unit, data, path)

    def leaf(self, step: Step, data: Any, path: str) -> Any:
        record = self.journal.get(path) or PathRecord()
        if record.has_output:
            return record.output
        if step.at_most_once and record.abandoned:
            return self.fail(
                path,
                {
                    "code": "at_most_once",
                    "message": "The worker running this at-most-once step was lost; it may have run, "
                    "so it is not run again.",
                },
            )
        if record.non_retryable or record.failures >= step.retry.attempts:
            return self.fail(
                path, record.last_error or {"code": "step_failed", "message": "The step failed."}
            )
        if record.suspension == "open":
            self.plan.suspended.append(path)
            return PENDING
        if record.retry_pending:
            self.plan.timers_pending = True
            return PENDING
        resumed = record.suspension == "resumed"
        self.plan.execute.append(
            Execute(
                path=path,
                step=step,
                input=data,
                number=record.failures + 1,
                resume_data=record.resume_data if resumed else None,
                resumed=resumed,
            )
        )
        return PENDING

    def node(self, node: Node, data: Any, path: str) -> Any:
        handler: Callable[[Node, Any, str], Any] = getattr(self, f"_{node.kind}")
        return handler(node, data, path)

    def _step(self, node: Node, data: Any, path: str) -> Any:
        return self.unit(node.units[0], data, path)

    def _side_by_side(self, node: Node, units: list[Step | Workflow], data: Any, path: str) -> Any:
        outputs: dict[str, Any] = {}
        for unit in units:
            result = self.unit(unit, data, f"{path}/{unit.id}")
            if result is not PENDING:
                outputs[unit.id] = result
        self.plan.joins.append(Join(path=path, expected=len(units), completed=len(outputs)))
        return outputs if len(outputs) == len(units) else PENDING

    def _parallel(self, node: Node, data: Any, path: str) -> Any:
        return self._side_by_side(node, list(node.units), data, path)

    def _branch(self, node: Node, data: Any, path: str) -> Any:
        chosen: list[Step | Workflow] = []
        for condition, unit in zip(node.conditions, node.units, strict=True):
            try:
                if condition(data):
                    chosen.append(unit)
            except Exception as exc:
                return self.fail(path, _error(exc, "condition_failed"))
        return self._side_by_side(node, chosen, data, path)

    def _loop(self, node: Node, data: Any, path: str) -> Any:
        unit, condition = node.units[0], node.conditions[0]
        for iteration in range(node.max_iterations):
            result = self.unit(unit, data, f"{path}[{iteration}]")
            if result is PENDING:
                return PENDING
            try:
                holds = bool(condition(result))
            except Exception as exc:
                return self.fail(path, _error(exc, "condition_failed"))
            if holds == node.until:  # dountil stops when it holds, dowhile when it does not
                return result
            data = result
        return self.fail(
            path,
            {"code": "loop_limit", "message": f"The loop ran {node.max_iterations} times without ending."},
        )

    def _foreach(self, node: Node, data: Any, path: str) -> Any:
        if not isinstance(data, list):
            return self.fail(
                path,
                {"code": "foreach_input", "message": f"foreach needs a list, got {type(data).__name__}."},
            )
        unit = node.units[0]
        outputs: list[Any] = []
        active = 0
        for index, item in enumerate(data):
            item_path = f"{path}[{index}]"
            record = self.journal.get(item_path)
            if active >= node.concurrency and not (record and record.has_output):
                continue  # beyond the concurrency limit: not started until a slot frees
            result = self.unit(unit, item, item_path)
            if result is PENDING:
                active += 1
            else:
                outputs.append(result)
        self.plan.joins.append(Join(path=path, expected=len(data), completed=len(outputs)))
        return outputs if len(outputs) == len(data) else PENDING

    def _map(self, node: Node, data: Any, path: str) -> Any:
        assert node.function is not None  # noqa: S101 - built by Workflow.map
        try:
            return node.function(data, MapContext(init=self.init, journal=self.journal))
        except Exception as exc:
            return self.fail(path, _error(exc, "map_failed"))

    def _sleep(self, node: Node, data: Any, path: str) -> Any:
        record = self.journal.get(path) or PathRecord()
        if record.has_output:
            return record.output
        if record.sleep_pending:
            self.plan.timers_pending = True
            return PENDING
        try:
            wake_at = self._wake_at(node, data)
        except Exception as exc:
            return self.fail(path, _error(exc, "sleep_failed"))
        self.plan.sleeps.append(SleepRequest(path=path, wake_at=wake_at, data=data))
        return PENDING

    def _wake_at(self, node: Node, data: Any) -> datetime:
        if node.at is not None:
            return node.at
        value: Any = node.seconds if node.function is None else node.function(data)
        if isinstance(value, datetime):
            if value.tzinfo is None:
                raise ValueError("sleep_until needs a timezone-aware datetime.")
            return value
        return self.now + timedelta(seconds=float(value))


def plan_run(workflow: Workflow, run_input: Any, journal: dict[str, PathRecord], *, now: datetime) -> Plan:
    """What to do next for a run of `workflow` whose journal is `journal`."""
    plan = Plan()
    result = _Walker(journal, plan, now=now, init=run_input).nodes(workflow.nodes, run_input, "")
    if plan.failure is not None:
        plan.execute.clear()
        plan.sleeps.clear()
    elif result is not PENDING:
        plan.done = True
        plan.output = result
    return plan
