"""Workflows: where definitions live, how long a claim lasts, and the bounds of a run."""

from __future__ import annotations

from config.env import env

# Modules every process imports at start; each registers the workflows it defines.
WORKFLOW_MODULES: list[str] = env.list("WORKFLOW_MODULES", default=["workflows.examples.research"])
# A worker holds a run this long without refreshing its lease before another may take it over
# (it refreshes every third of it while a step runs).
WORKFLOW_LEASE_S = env.float("WORKFLOW_LEASE_S", default=30.0)
# How often beat fires due timers, hands on runs whose lease ran out, and applies retention.
WORKFLOW_SWEEP_EVERY_S = env.float("WORKFLOW_SWEEP_EVERY_S", default=1.0)
# A timer due within this many seconds is waited for by the worker holding the run.
WORKFLOW_INLINE_WAIT_S = env.float("WORKFLOW_INLINE_WAIT_S", default=2.0)
# Threads one worker runs a run's side-by-side steps on (parallel, for-each).
WORKFLOW_STEP_THREADS = env.int("WORKFLOW_STEP_THREADS", default=8)
# The largest step input or output kept in the journal (JSON bytes); a larger output fails the step.
WORKFLOW_MAX_STEP_BYTES = env.int("WORKFLOW_MAX_STEP_BYTES", default=256 * 1024)
# Backpressure: a tenant's runs that are pending or running at once; one more answers 429.
WORKFLOW_MAX_ACTIVE_RUNS = env.int("WORKFLOW_MAX_ACTIVE_RUNS", default=1000)
# Finished runs are deleted this many days after they finished (0: kept).
WORKFLOW_RETENTION_DAYS = env.int("WORKFLOW_RETENTION_DAYS", default=30)
# How long POST .../start-async and .../resume-async wait for the run to stop before answering.
WORKFLOW_SYNC_WAIT_S = env.float("WORKFLOW_SYNC_WAIT_S", default=30.0)
# A comment line on a quiet event stream this often, so proxies keep it open.
WORKFLOW_SSE_HEARTBEAT_S = env.float("WORKFLOW_SSE_HEARTBEAT_S", default=15.0)
# The agent whose approvals list a workflow's approval step, unless the step names one.
WORKFLOW_APPROVAL_AGENT = env.str("WORKFLOW_APPROVAL_AGENT", default="assistant")
