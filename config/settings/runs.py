"""Runs that stop and continue: how long an approval may wait, when a running run counts as lost."""

from __future__ import annotations

from config.env import env

# A tool call waiting for approval expires after this (declined with reason "expired", the run
# ends); 0: never. Suspensions (waiting for resume data) do not expire.
APPROVAL_TTL_S = env.float("APPROVAL_TTL_S", default=86400.0)
# A run `running` this long without a checkpoint is taken to belong to a dead process and is
# marked `interrupted` by the sweeper.
RUN_INTERRUPTED_AFTER_S = env.float("RUN_INTERRUPTED_AFTER_S", default=900.0)
# How often beat expires approvals and sweeps interrupted runs.
RUNS_SWEEP_EVERY_S = env.float("RUNS_SWEEP_EVERY_S", default=60.0)
# A cancelled run is stopped in whichever process runs it through a Redis signal
# (`agents.runtime.cancel`); False: the run is only marked and goes on to its end.
RUN_CANCEL_SIGNAL = env.bool("RUN_CANCEL_SIGNAL", default=True)
# How long the signal's key waits for a process that was reconnecting to Redis.
RUN_CANCEL_KEY_TTL_S = env.int("RUN_CANCEL_KEY_TTL_S", default=3600)
