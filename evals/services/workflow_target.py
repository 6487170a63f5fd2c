"""A workflow as an experiment's target: a case's input becomes the workflow's `inputData`, the
run goes through the real engine, and the scorers see its output and its journal.

A case's input for a workflow is its last user message: a JSON object is the `inputData`
itself; any other text fills the workflow input model's one required text field (a workflow
whose input has no such single field needs the JSON form). The eval worker advances the run in
its own process with the engine's driver (`workflows.engine.driver.run_advance`, the same code a
workflow worker runs), so an experiment needs no second pool of workers; the run's own queued
message finds it finished, or advances it if it got there first, and the eval worker waits.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from agents.tools.registry import registry as tool_registry
from core.access import Actor
from core.errors import NotFound, ValidationFailed
from evals.scorers import CaseSpec, RunOutcome, StepRecord, ToolCallRecord
from workflows.definition import Step, Workflow
from workflows.engine.driver import run_advance
from workflows.registry import registry as workflow_registry
from workflows.selectors import run_steps
from workflows.services import run_cancel, run_start, run_wait, workflow_for_start

TERMINAL = ("success", "failed", "canceled")  # a workflow run's final statuses
WAIT_S = 600.0  # a workflow run still moving after this is recorded as errored


def workflow_target_get(workflow_id: str) -> Workflow:
    """The newest registered version of the workflow, or a 400 naming `workflow_id`."""
    try:
        return workflow_for_start(workflow_id)
    except NotFound as error:
        raise ValidationFailed(error.message, details={"workflow_id": [error.message]}) from error


def _single_text_field(model: type[BaseModel]) -> str | None:
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    if len(required) == 1 and model.model_fields[required[0]].annotation is str:
        return required[0]
    return None


def case_input_data(workflow: Workflow, case: CaseSpec) -> Any:
    """The workflow's `inputData` for the case (see the module's docstring)."""
    users = [m.get("content", "") for m in case.input_messages if m.get("role") == "user"]
    text = str(users[-1]) if users else ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data
    field = _single_text_field(workflow.input_model)
    if field is None:
        raise ValueError(
            "The workflow's input has no single text field: give the case's input as a JSON object."
        )
    return {field: text}


def cases_check(workflow: Workflow, cases: list[CaseSpec]) -> None:
    """Every case's input must be valid `inputData` for the workflow: a 400 with field errors naming each case."""
    details: dict[str, list[str]] = {}
    for case in cases:
        try:
            workflow.input_model.model_validate(case_input_data(workflow, case))
        except PydanticValidationError as error:
            for item in error.errors(include_url=False):
                where = ".".join(["cases", case.name, "inputData", *(str(p) for p in item["loc"])])
                details.setdefault(where, []).append(item["msg"])
        except ValueError as error:
            details.setdefault(f"cases.{case.name}.input_messages", []).append(str(error))
    if details:
        raise ValidationFailed("Cases whose input the workflow does not accept.", details=details)


def _tool_of(step: Step | None) -> Any:
    """The registered tool a `tool_step` runs, else None."""
    if step is None:
        return None
    name = getattr(step.function, "__qualname__", "")
    return tool_registry.get(name.removeprefix("tool_step.")) if name.startswith("tool_step.") else None


def outcome_from_workflow_run(run: Any, workflow: Workflow, latency_ms: float) -> RunOutcome:
    """What scorers see of a workflow run: its status and output (as text and as the object), each
    step's latest attempt in journal order, and every tool step that ran as a tool call with the
    tool's side-effect label."""
    steps_by_id = {s.id: s for s in workflow.steps()}
    journal = run_steps(run)
    steps: list[StepRecord] = []
    calls: list[ToolCallRecord] = []
    for path, entry in journal.items():
        step_id = str(entry.get("stepId", ""))
        status = str(entry.get("status", ""))
        steps.append(StepRecord(path=path, step_id=step_id, status=status))
        tool = _tool_of(steps_by_id.get(step_id))
        if tool is not None and status in ("success", "failed", "running", "abandoned"):
            arguments = entry.get("input")
            calls.append(
                ToolCallRecord(
                    name=tool.id,
                    arguments=arguments if isinstance(arguments, dict) else {},
                    side_effect=tool.side_effect,
                    is_error=status != "success",
                )
            )
    output = run.output
    text = (
        output if isinstance(output, str) else ("" if output is None else json.dumps(output, sort_keys=True))
    )
    return RunOutcome(
        status=run.status,
        text=text,
        tool_calls=calls,
        object=output,
        latency_ms=latency_ms,
        steps=steps,
        workflow_run_id=str(run.pk),
    )


def workflow_case_run(*, actor: Actor, workflow_id: str, case: CaseSpec) -> tuple[RunOutcome, dict[str, Any]]:
    """Run the case as a workflow run of the actor and wait for it to stop; the outcome, and the
    run's error (empty unless it failed or did not stop). A run that suspended (waiting for a
    person) is recorded as `suspended` and then cancelled, so it does not stay active."""
    workflow = workflow_target_get(workflow_id)
    started = time.perf_counter()
    run = run_start(
        actor=actor,
        workflow_id=workflow_id,
        input_data=case_input_data(workflow, case),
        run_id=uuid.uuid4(),
        request_context=dict(case.request_context),
    )
    run_advance(run.pk)  # the real engine, in this worker; "not-claimed" if another worker holds it
    run = run_wait(run=run, timeout_s=WAIT_S)
    definition = workflow_registry.resolve(run.workflow_id, run.version, run.graph_hash)
    outcome = outcome_from_workflow_run(run, definition, (time.perf_counter() - started) * 1000)
    error: dict[str, Any] = {}
    if run.status == "failed":
        error = {"code": "workflow_failed", "message": "The workflow run failed.", "details": run.error or {}}
    elif run.status == "suspended":
        run_cancel(actor=actor, run=run)
    elif run.status not in TERMINAL:
        error = {
            "code": "workflow_timeout",
            "message": f"The workflow run did not stop within {WAIT_S:.0f} s.",
        }
        run_cancel(actor=actor, run=run)
    return outcome, error
