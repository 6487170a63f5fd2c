"""Inline charts (`render_data`): how long a chart is kept, how many rows it takes, who plans it."""

from __future__ import annotations

from config.env import env

# How long a planned chart (or its failure) stays answerable at /api/embed/chart/<id>.
CHART_TTL_S = env.int("CHART_TTL_S", default=3600)
# The most rows one `render_data` call may send; more is a validation error for the model.
CHART_MAX_ROWS = env.int("CHART_MAX_ROWS", default=500)
# The longest a GET /api/embed/chart/<id> waits for a change before answering the status as is.
CHART_POLL_TIMEOUT_S = env.float("CHART_POLL_TIMEOUT_S", default=25.0)
# The model that plans charts: a name or a tier (the first model of the tier the providers
# list); when it fails or is not deployed, the calling run's model.
CHART_MODEL = env.str("CHART_MODEL", default="tier:fast")
