from __future__ import annotations

from django.apps import AppConfig


class ChartsConfig(AppConfig):
    """Inline charts: the ambient `render_data` tool, its planner job and the embed route."""

    name = "charts"
    verbose_name = "Charts"
