"""What a step function receives besides its input: `StepContext`."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from core.context import RequestContext


class StepSuspended(Exception):
    """Raised by `ctx.suspend()`: the step stops here and waits for resume data."""

    def __init__(self, payload: Any) -> None:
        super().__init__("suspended")
        self.payload = payload


class SuspendPayloadInvalid(Exception):
    """The payload given to `ctx.suspend()` does not match the step's suspend schema."""


class StepContext:
    """The run as one step sees it.

    `idempotency_key` is stable across retries of the same step path (run, path, iteration):
    pass it to side-effecting calls so a retry after a lost worker does not repeat them.
    `resume_data` holds the validated resume data once a suspension is resumed (else None).
    `state` is the workflow's state as the step started; `set_state()` changes it, committed
    with the step's result. `write()` appends a progress event to the run's stream at once.
    `cancelled` turns true when the run is cancelled or the step times out: a long step
    should check it and stop.
    """

    def __init__(
        self,
        *,
        run_id: uuid.UUID,
        path: str,
        step_id: str,
        attempt: int,
        request_context: RequestContext,
        state: Mapping[str, Any],
        resume_data: Any,
        suspend_schema: type[BaseModel] | None,
        writer: Callable[[Any], None],
        cancel_event: threading.Event,
    ) -> None:
        self.run_id = run_id
        self.path = path
        self.step_id = step_id
        self.attempt = attempt
        self.request_context = request_context
        self.state = MappingProxyType(dict(state))
        self.resume_data = resume_data
        self.state_patch: dict[str, Any] = {}
        self._suspend_schema = suspend_schema
        self._writer = writer
        self._cancel = cancel_event

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.path}"

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def resumed(self) -> bool:
        return self.resume_data is not None

    def set_state(self, **values: Any) -> None:
        self.state_patch.update(values)

    def write(self, data: Any) -> None:
        """A progress event (any JSON value) on the run's stream, written now."""
        self._writer(data)

    def suspend(self, payload: Any = None) -> NoReturn:
        """Stop the step until it is resumed; `payload` is checked against the suspend schema."""
        if self._suspend_schema is not None:
            try:
                payload = self._suspend_schema.model_validate(payload).model_dump(mode="json")
            except ValidationError as exc:
                raise SuspendPayloadInvalid(str(exc)) from exc
        raise StepSuspended(payload)
