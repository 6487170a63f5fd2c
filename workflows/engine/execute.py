"""Running one step function and turning what happened into an outcome (no database here)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from pydantic import BaseModel, ValidationError

from workflows.artifacts import storage_configured
from workflows.context import StepContext, StepSuspended, SuspendPayloadInvalid
from workflows.definition import Step


class StepTimeout(Exception):
    """The step ran past its timeout."""


class StepTooLarge(Exception):
    """The step's output is larger than WORKFLOW_MAX_STEP_BYTES."""


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one run of a step came to: an output, a suspension, or an error."""

    output: Any = None
    suspended: bool = False
    payload: Any = None
    error: dict[str, Any] | None = None
    retryable: bool = True
    oversize: bool = False  # the output is over WORKFLOW_MAX_STEP_BYTES: the driver stores it


def _field_errors(exc: ValidationError) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for item in exc.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "non_field_errors"
        errors.setdefault(where, []).append(item["msg"])
    return errors


def error_of(exc: BaseException, code: str = "step_failed") -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "type": type(exc).__name__, "message": str(exc)[:4000]}
    if isinstance(exc, ValidationError):
        error["fields"] = _field_errors(exc)
    return error


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), default=str))


def step_call(step: Step, data: Any, ctx: StepContext) -> Outcome:
    """Validate the input, run the function (sync, or async on its own loop), validate the output."""
    try:
        value = step.input_model.model_validate(data)
    except ValidationError as exc:
        return Outcome(error=error_of(exc, "input_invalid"), retryable=False)
    try:
        result = asyncio.run(_run_async(step, value, ctx)) if step.is_async else step.function(value, ctx)
    except StepSuspended as suspended:
        return Outcome(suspended=True, payload=suspended.payload)
    except SuspendPayloadInvalid as exc:
        return Outcome(error=error_of(exc, "suspend_invalid"), retryable=False)
    except Exception as exc:
        retryable = not isinstance(exc, step.retry.non_retryable)
        return Outcome(
            error=error_of(exc, "timeout" if isinstance(exc, TimeoutError) else "step_failed"),
            retryable=retryable,
        )
    return output_of(step, result)


async def _run_async(step: Step, value: BaseModel, ctx: StepContext) -> Any:
    coroutine = step.function(value, ctx)
    if step.timeout_s is None:
        return await coroutine
    return await asyncio.wait_for(coroutine, timeout=step.timeout_s)


def output_of(step: Step, result: Any) -> Outcome:
    try:
        model = result if isinstance(result, step.output_model) else step.output_model.model_validate(result)
    except ValidationError as exc:
        return Outcome(error=error_of(exc, "output_invalid"), retryable=False)
    output = model.model_dump(mode="json")
    limit = int(settings.WORKFLOW_MAX_STEP_BYTES)
    if json_size(output) > limit:
        if storage_configured():
            return Outcome(output=output, oversize=True)
        too_large = StepTooLarge(
            f"The step's output is larger than {limit} bytes; store it in a workspace and return a reference."
        )
        return Outcome(error=error_of(too_large, "output_too_large"), retryable=False)
    return Outcome(output=output)
