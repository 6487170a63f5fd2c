"""Value objects, errors and the interface every object store backend implements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from core.errors import Forbidden, NotFound, UpstreamError


class StoreError(UpstreamError):
    code = "storage_error"
    default_message = "The object store refused or failed the request."


class StoreNotFound(NotFound):
    code = "storage_not_found"


class StoreAccessDenied(Forbidden):
    code = "storage_access_denied"
    default_message = "The credentials do not allow this operation."


@dataclass(frozen=True, kw_only=True, slots=True)
class Credentials:
    """Keys for one scope. `__redact__` keeps them out of traces even if passed by mistake."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(default="", repr=False)
    expires_at: datetime | None = None
    __redact__ = True


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessKey:
    principal: str
    credentials: Credentials


@dataclass(frozen=True, kw_only=True, slots=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    version_id: str = ""
    last_modified: datetime | None = None
    content_type: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True, slots=True)
class VersionInfo:
    key: str
    version_id: str
    etag: str
    size: int
    is_latest: bool
    is_delete_marker: bool


class ObjectStore(Protocol):
    """What the kit needs from an S3-compatible store (object, bucket, IAM, STS and SQS calls)."""

    # buckets
    def bucket_create(self, *, bucket: str, tags: dict[str, str]) -> None: ...
    def bucket_delete(self, *, bucket: str) -> None: ...
    def bucket_exists(self, *, bucket: str) -> bool: ...
    def bucket_names(self) -> list[str]: ...
    def bucket_tags(self, *, bucket: str) -> dict[str, str]: ...
    def bucket_versioning_enabled(self, *, bucket: str) -> bool: ...
    def bucket_enable_versioning(self, *, bucket: str) -> None: ...
    def bucket_set_expiry(self, *, bucket: str, days: int) -> None: ...
    def bucket_notify_queue(self, *, bucket: str, queue_arn: str, prefix: str) -> None: ...

    # objects
    def object_put(
        self,
        *,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str = "",
        metadata: dict[str, str] | None = None,
    ) -> ObjectInfo: ...
    def object_get(self, *, bucket: str, key: str, version_id: str = "") -> tuple[bytes, ObjectInfo]: ...
    def object_head(self, *, bucket: str, key: str, version_id: str = "") -> ObjectInfo: ...
    def object_delete(self, *, bucket: str, key: str) -> None: ...
    def object_list(self, *, bucket: str, prefix: str) -> Iterator[ObjectInfo]: ...
    def object_copy_version(
        self, *, src_bucket: str, key: str, version_id: str, size: int, dst_bucket: str, dst_key: str
    ) -> None: ...
    def object_presign_get(self, *, bucket: str, key: str, version_id: str = "", expires_s: int) -> str: ...
    def versions(self, *, bucket: str, prefix: str) -> Iterator[VersionInfo]: ...
    def versions_delete(self, *, bucket: str, versions: Iterable[tuple[str, str]]) -> list[str]: ...

    # credentials
    def iam_user_create(self, *, name: str, path: str, policy: dict[str, Any]) -> AccessKey: ...
    def iam_user_delete(self, *, name: str) -> None: ...
    def sts_assume_role(
        self, *, role_arn: str, session_name: str, policy: dict[str, Any], duration_s: int
    ) -> AccessKey: ...

    # queues (store notifications)
    def queue_create(self, *, name: str) -> tuple[str, str]: ...
    def queue_receive(self, *, queue_url: str, max_messages: int = 10) -> list[tuple[str, str]]: ...
    def queue_ack(self, *, queue_url: str, receipt: str) -> None: ...
    def queue_delete(self, *, queue_url: str) -> None: ...
