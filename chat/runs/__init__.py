"""Runs in flight: start, abort, fan-out with sequence numbers, replay."""

from chat.runs.hub import Run, run_abort, run_get, run_start, thread_group
from chat.runs.replay import replay_after

__all__ = ["Run", "replay_after", "run_abort", "run_get", "run_start", "thread_group"]
