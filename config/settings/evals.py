"""Evals: the judge model of model-judged scorers, and how long a case's run may hold its claim."""

from __future__ import annotations

from config.env import env
from config.settings.providers import DEFAULT_MODEL

# The model that judges answers (`provider/model`); unset: DEFAULT_MODEL. A scorer entry may name its own.
EVALS_JUDGE_MODEL = env.str("EVALS_JUDGE_MODEL", default="") or DEFAULT_MODEL
# A case result claimed longer ago than this is taken to belong to a dead worker and is run again.
EVALS_CASE_LEASE_S = env.float("EVALS_CASE_LEASE_S", default=600.0)
# How often beat looks for such results and for experiments whose queue was lost.
EVALS_SWEEP_EVERY_S = env.float("EVALS_SWEEP_EVERY_S", default=60.0)
# Live scoring: how often beat scores sampled runs, how far back it looks, how many runs per agent a sweep reads.
EVALS_LIVE_SWEEP_EVERY_S = env.float("EVALS_LIVE_SWEEP_EVERY_S", default=60.0)
EVALS_LIVE_WINDOW_S = env.float("EVALS_LIVE_WINDOW_S", default=86400.0)
EVALS_LIVE_BATCH = env.int("EVALS_LIVE_BATCH", default=500)
# A worker task runs cases of one experiment one after another for this long, then hands the
# experiment on in a new task (so experiments sharing the workers take turns).
EVALS_WORK_SLICE_S = env.float("EVALS_WORK_SLICE_S", default=60.0)
