"""Object storage for agents on any S3: workspaces, copy-on-write forks, checkpoints, coordination.

The nine primitives (imported lazily so `import storage_kit` does not load models):

    create_workspace / teardown_workspace
    create_forks / teardown_forks
    checkpoint / list_checkpoints / restore
    setup_coordination / teardown_coordination

plus `workspace_for_run` / `forks_for_run` for orchestrators.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "create_workspace": ("storage_kit.services.workspaces", "workspace_create"),
    "teardown_workspace": ("storage_kit.services.workspaces", "workspace_teardown"),
    "create_forks": ("storage_kit.services.forks", "forks_create"),
    "teardown_forks": ("storage_kit.services.forks", "forks_teardown"),
    "checkpoint": ("storage_kit.services.checkpoints", "checkpoint_create"),
    "list_checkpoints": ("storage_kit.services.checkpoints", "checkpoint_list"),
    "restore": ("storage_kit.services.forks", "checkpoint_restore"),
    "setup_coordination": ("storage_kit.services.coordination", "coordination_setup"),
    "teardown_coordination": ("storage_kit.services.coordination", "coordination_teardown"),
    "workspace_for_run": ("storage_kit.orchestrator", "workspace_for_run"),
    "forks_for_run": ("storage_kit.orchestrator", "forks_for_run"),
    "run_with_workspace": ("storage_kit.orchestrator", "run_with_workspace"),
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'storage_kit' has no attribute {name!r}")
    module, attr = _EXPORTS[name]
    return getattr(import_module(module), attr)
