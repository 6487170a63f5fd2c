"""The evals admin, one module per concern; importing this package registers every page."""

from evals.admin import datasets, experiments, live, panels

__all__ = ["datasets", "experiments", "live", "panels"]
