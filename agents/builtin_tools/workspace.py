"""Example tools that use the storage the orchestrator provisioned for the run.

The tools do not provision anything and never see how the keys were minted:
they take the handle from `request_context.resources["storage"]` and use its
object API (scoped keys; reads fall through in an overlay fork). Nothing about
the bucket's credentials is returned to the model.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from agents.tools import ToolContext, tool, toolkit_register
from storage_kit.types import StorageHandle

NOTES_PREFIX = "notes/"


class NoStorage(RuntimeError):
    """The run was started without a workspace in its request context."""


def _storage(ctx: ToolContext) -> StorageHandle:
    handle = ctx.request_context.resources.get("storage")
    if not isinstance(handle, StorageHandle):
        raise NoStorage(
            "This run has no workspace: the workspace tools work in runs started with one "
            "(storage_kit.workspace_for_run, or manage.py storage_demo_run), not in a plain chat."
        )
    return handle


class NoteIn(BaseModel):
    title: str = Field(description="Short title; becomes the file name", min_length=1, max_length=80)
    text: str = Field(description="The note, in markdown", max_length=20_000)


class NoteOut(BaseModel):
    key: str
    size: int


class ListIn(BaseModel):
    pass


class ListOut(BaseModel):
    keys: list[str]


@tool(
    id="workspace_append_note",
    description="Persist a research note (one per topic) to the run's workspace.",
    side_effect="write",
    label="Writing a note…",
    timeout_s=10,
)
def append_note(ctx: ToolContext, args: NoteIn) -> NoteOut:
    slug = re.sub(r"[^a-z0-9]+", "-", args.title.lower()).strip("-") or "note"
    info = _storage(ctx).objects.put(f"{NOTES_PREFIX}{slug}.md", f"# {args.title}\n\n{args.text}\n")
    return NoteOut(key=info.key, size=info.size)


@tool(
    id="workspace_list_notes",
    description="List the notes already written to the run's workspace.",
    side_effect="read",
    label="Reading notes…",
    timeout_s=10,
)
def list_notes(ctx: ToolContext, args: ListIn) -> ListOut:
    return ListOut(keys=[o.key for o in _storage(ctx).objects.list(NOTES_PREFIX)])


toolkit_register(
    name="workspace",
    tools=[append_note, list_notes],
    description="Storage workspaces: notes in the bucket provisioned for the run.",
)
