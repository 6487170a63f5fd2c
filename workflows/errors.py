"""The workflow errors a client may see (the platform's one error shape, core/errors.py)."""

from __future__ import annotations

from core.errors import Conflict, PlatformError


class TooManyRuns(PlatformError):
    code = "too_many_runs"
    status = 429
    default_message = "Too many workflow runs are queued for this tenant; try again shortly."


class RunConflict(Conflict):
    code = "run_conflict"
    default_message = "The run is not in a state that allows this."


class SuspensionConflict(Conflict):
    code = "suspension_conflict"
    default_message = "No open suspension matches that step."
