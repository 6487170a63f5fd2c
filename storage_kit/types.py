"""Typed results of the storage_kit API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from storage_kit.backend import Credentials

if TYPE_CHECKING:
    from storage_kit.objects import ObjectAPI

T = TypeVar("T")


@dataclass(kw_only=True)
class TeardownReport:
    """Everything a teardown did not manage; empty `errors` means it all went."""

    resources: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def merge(self, other: TeardownReport) -> None:
        self.resources.extend(other.resources)
        self.errors.extend(other.errors)


@dataclass(frozen=True, kw_only=True)
class StorageHandle:
    """What a tool gets for one workspace or fork: where it is, its scoped keys and an object API.

    Excluded from reprs and traces (`__redact__`); reach it through
    `request_context.resources["storage"]`.
    """

    kind: str  # "workspace" | "fork"
    id: int
    tenant_id: int
    name: str
    bucket: str
    prefix: str
    role: str
    mode: str
    expires_at: datetime
    credentials: Credentials | None = field(repr=False)
    checkpoint_id: int | None = None
    __redact__ = True

    @property
    def objects(self) -> ObjectAPI:
        from storage_kit.objects import object_api_for

        return object_api_for(self)


@dataclass(frozen=True, kw_only=True)
class ForkSetResult:
    """Forks created and, for each that failed, why; nothing else was left behind."""

    fork_set_id: int
    checkpoint_id: int
    forks: list[StorageHandle]
    failures: list[str]


@dataclass(frozen=True, kw_only=True)
class CheckpointInfo:
    id: int
    name: str
    bucket: str
    prefix: str
    object_count: int
    total_bytes: int
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, kw_only=True)
class CoordinationInfo:
    id: int
    bucket: str
    prefix: str
    key_filter: str
    webhook_url: str
    store_notifications: bool
