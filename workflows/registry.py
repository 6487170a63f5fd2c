"""The process-wide registry of code-defined workflows, every version kept.

Workflows register on import (`Workflow.commit()`); `WORKFLOW_MODULES` names the modules
every process imports at start, so a worker resolves any run by workflow id and version
without anything held in memory from the process that started it. Registering a new
version keeps the old ones resolvable: a run finishes on the definition it started on.
"""

from __future__ import annotations

import importlib

from workflows.definition import Workflow, WorkflowDefinitionError


class DefinitionChanged(Exception):
    """A run's definition is no longer the one it started on (same version, other graph)."""


class WorkflowRegistry:
    def __init__(self) -> None:
        self._versions: dict[str, dict[str, Workflow]] = {}

    def register(self, workflow: Workflow) -> None:
        versions = self._versions.setdefault(workflow.id, {})
        # Registering a version again replaces it: a run on the replaced graph then fails
        # visibly with `definition_changed` rather than continuing on other steps.
        versions.pop(workflow.version, None)
        versions[workflow.version] = workflow  # insertion order: the newest version last

    def latest(self, workflow_id: str) -> Workflow | None:
        versions = self._versions.get(workflow_id)
        if not versions:
            return None
        return next(reversed(versions.values()))

    def version(self, workflow_id: str, version: str) -> Workflow | None:
        return self._versions.get(workflow_id, {}).get(version)

    def resolve(self, workflow_id: str, version: str, graph_hash: str) -> Workflow:
        """The exact definition a run started on, or `DefinitionChanged`."""
        workflow = self.version(workflow_id, version)
        if workflow is None:
            raise DefinitionChanged(f"Workflow {workflow_id!r} version {version!r} is no longer defined.")
        if workflow.graph_hash != graph_hash:
            raise DefinitionChanged(
                f"Workflow {workflow_id!r} version {version!r} changed while the run was in flight "
                f"(graph {graph_hash} is now {workflow.graph_hash}); give a changed graph a new version."
            )
        return workflow

    def all_latest(self) -> list[Workflow]:
        found = [self.latest(wid) for wid in sorted(self._versions)]
        return [w for w in found if w is not None]

    def all_versions(self) -> list[Workflow]:
        return [w for wid in sorted(self._versions) for w in self._versions[wid].values()]

    def unregister(self, workflow_id: str, version: str | None = None) -> None:
        if version is None:
            self._versions.pop(workflow_id, None)
        else:
            self._versions.get(workflow_id, {}).pop(version, None)


registry = WorkflowRegistry()


def workflows_import(modules: list[str]) -> None:
    """Import the modules that define workflows (each registers its own on import)."""
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise WorkflowDefinitionError(
                f"WORKFLOW_MODULES names {name!r}, which cannot be imported: {exc}"
            ) from exc
