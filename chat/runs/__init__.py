"""Runs in flight: start, abort, fan-out with sequence numbers, replay."""

from chat.runs.hub import Run, run_abort, run_continue, run_for, run_get, run_start, thread_group
from chat.runs.replay import RunState, replay_after, replay_length, replay_run_state

__all__ = [
    "Run",
    "RunState",
    "replay_after",
    "replay_length",
    "replay_run_state",
    "run_abort",
    "run_continue",
    "run_for",
    "run_get",
    "run_start",
    "thread_group",
]
