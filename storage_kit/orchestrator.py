"""Provision storage for one agent run, hand it to the tools through the request context, tear down always.

    with workspace_for_run(context=ctx, name="research-42") as run:
        result = generate("research-agent", context=run.context, prompt=...)
    run.report  # the teardown report, filled on exit

Tools find the handle at `request_context.resources["storage"]` (a list of
handles at `resources["forks"]` for `forks_for_run`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from core.access import Actor
from core.context import RequestContext
from storage_kit.models import ForkMode, Role
from storage_kit.services.forks import forks_create, forks_teardown
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from storage_kit.types import ForkSetResult, StorageHandle, TeardownReport

T = TypeVar("T")


@dataclass(kw_only=True)
class RunStorage:
    context: RequestContext
    handle: StorageHandle
    report: TeardownReport = field(default_factory=TeardownReport)


@dataclass(kw_only=True)
class RunForks:
    contexts: list[RequestContext]
    result: ForkSetResult
    report: TeardownReport = field(default_factory=TeardownReport)


def run_actor(context: RequestContext) -> Actor:
    """Who provisions for a run: its user (the owner of what is made), or the tenant's scheduler."""
    if context.user_id is None:
        return Actor.system(tenant_id=context.tenant_id)
    return Actor(tenant_id=context.tenant_id, user_id=context.user_id)


@contextmanager
def workspace_for_run(
    *,
    context: RequestContext,
    name: str,
    ttl_s: int | None = None,
    role: str = Role.EDITOR,
    shared_bucket: bool = False,
) -> Iterator[RunStorage]:
    """A workspace for the duration of the block; torn down on exit, also when the block raises."""
    actor = run_actor(context)
    handle = workspace_create(actor=actor, name=name, ttl_s=ttl_s, role=role, shared_bucket=shared_bucket)
    run = RunStorage(context=context.with_resources(storage=handle), handle=handle)
    try:
        yield run
    finally:
        run.report = workspace_teardown(actor=actor, workspace_id=handle.id)


def run_with_workspace(
    run: Callable[[RequestContext], T], *, context: RequestContext, name: str, ttl_s: int | None = None
) -> tuple[T, TeardownReport]:
    """Call `run` with a context holding a fresh workspace; return its result and the teardown report."""
    with workspace_for_run(context=context, name=name, ttl_s=ttl_s) as storage:
        result = run(storage.context)
    return result, storage.report


@contextmanager
def forks_for_run(
    *,
    context: RequestContext,
    count: int,
    source_bucket: str | None = None,
    checkpoint_id: int | None = None,
    mode: str = ForkMode.OVERLAY,
    ttl_s: int | None = None,
) -> Iterator[RunForks]:
    """N forks, one request context per created fork (`resources["storage"]`); all torn down on exit."""
    actor = run_actor(context)
    result = forks_create(
        actor=actor,
        count=count,
        source_bucket=source_bucket,
        checkpoint_id=checkpoint_id,
        mode=mode,
        ttl_s=ttl_s,
    )
    run = RunForks(contexts=[context.with_resources(storage=fork) for fork in result.forks], result=result)
    try:
        yield run
    finally:
        run.report = forks_teardown(actor=actor, fork_set_id=result.fork_set_id)
