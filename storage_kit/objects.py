"""The object API tools use: get, put, delete, list, head and presigned GET inside one workspace or fork.

Calls go to the store with the scope's own keys, so the store enforces the
scope. For an overlay fork, reads fall through to the checkpoint's pinned
version until the fork writes the key; deletes are tombstones; listing merges
the manifest with the overlay. Writes record coordination events (outbox).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction

from core.errors import Forbidden, NotFound, ValidationFailed
from observability.tracing import Span, traced_operation
from storage_kit.backend import ObjectInfo, ObjectStore, scoped_store
from storage_kit.models import Checkpoint, Fork, ManifestEntry, OverlayEntry, Role
from storage_kit.types import StorageHandle


def object_api_for(handle: StorageHandle) -> ObjectAPI:
    if handle.kind == "fork" and handle.mode == "overlay":
        return OverlayObjectAPI(handle)
    return ObjectAPI(handle)


def _key_validate(key: str) -> str:
    if not key or key.startswith("/") or len(key) > 900 or ".." in key.split("/"):
        raise ValidationFailed(
            f"Invalid object key {key!r}.", details={"key": ["A relative key without '..'."]}
        )
    return key


class ObjectAPI:
    """Plain S3 access under the handle's (bucket, prefix)."""

    def __init__(self, handle: StorageHandle) -> None:
        if handle.credentials is None:
            raise Forbidden("This storage handle has no credentials.")
        self.handle = handle
        self.store: ObjectStore = scoped_store(handle.credentials)

    @contextmanager
    def _span(self, op: str, key: str = "") -> Iterator[Span]:
        with traced_operation(
            f"storage.{op}", kind="storage", tenant_id=self.handle.tenant_id, scope=self.handle.name, key=key
        ) as span:
            yield span

    def _writable(self) -> None:
        if self.handle.role == Role.READ_ONLY:
            raise Forbidden("This storage handle is read-only.")

    def _emit(self, info: ObjectInfo, key: str) -> None:
        from storage_kit.services.coordination import event_record

        event_record(
            tenant_id=self.handle.tenant_id,
            bucket=self.handle.bucket,
            key=key,
            version_id=info.version_id,
            etag=info.etag,
            size=info.size,
        )

    def put(self, key: str, body: bytes | str, *, content_type: str = "") -> ObjectInfo:
        self._writable()
        data = body.encode() if isinstance(body, str) else body
        full = self.handle.prefix + _key_validate(key)
        with self._span("put", key), transaction.atomic():
            info = self.store.object_put(
                bucket=self.handle.bucket, key=full, body=data, content_type=content_type
            )
            self._emit(info, full)
        return ObjectInfo(key=key, size=info.size, etag=info.etag, version_id=info.version_id)

    def get(self, key: str) -> bytes:
        with self._span("get", key):
            body, _ = self.store.object_get(
                bucket=self.handle.bucket, key=self.handle.prefix + _key_validate(key)
            )
            return body

    def head(self, key: str) -> ObjectInfo:
        with self._span("head", key):
            info = self.store.object_head(
                bucket=self.handle.bucket, key=self.handle.prefix + _key_validate(key)
            )
            return ObjectInfo(key=key, size=info.size, etag=info.etag, version_id=info.version_id)

    def delete(self, key: str) -> None:
        self._writable()
        with self._span("delete", key):
            self.store.object_delete(bucket=self.handle.bucket, key=self.handle.prefix + _key_validate(key))

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        with self._span("list", prefix):
            strip = len(self.handle.prefix)
            return [
                ObjectInfo(key=o.key[strip:], size=o.size, etag=o.etag)
                for o in self.store.object_list(bucket=self.handle.bucket, prefix=self.handle.prefix + prefix)
            ]

    def presigned_get(self, key: str, *, expires_s: int | None = None) -> str:
        with self._span("presign", key):
            return self.store.object_presign_get(
                bucket=self.handle.bucket,
                key=self.handle.prefix + _key_validate(key),
                expires_s=expires_s or settings.STORAGE_PRESIGN_TTL_S,
            )


class OverlayObjectAPI(ObjectAPI):
    """Copy-on-write view of a checkpoint: overlay rows first, then the pinned manifest."""

    def __init__(self, handle: StorageHandle) -> None:
        super().__init__(handle)
        fork = Fork.objects.select_related("checkpoint").get(pk=handle.id)
        self.checkpoint: Checkpoint = fork.checkpoint

    def _resolve(self, key: str) -> tuple[str, str, str]:
        """(bucket, key, version) to read for `key`; NotFound for a tombstone or an unknown key."""
        entry = OverlayEntry.objects.filter(fork_id=self.handle.id, key=key).first()
        if entry is not None:
            if entry.tombstone:
                raise NotFound(f"{key!r} was deleted in this fork.")
            return self.handle.bucket, self.handle.prefix + key, ""
        pinned = ManifestEntry.objects.filter(
            checkpoint=self.checkpoint, key=self.checkpoint.prefix + key
        ).first()
        if pinned is None:
            raise NotFound(f"No object {key!r} in this fork.")
        return self.checkpoint.bucket, pinned.key, pinned.version_id

    def put(self, key: str, body: bytes | str, *, content_type: str = "") -> ObjectInfo:
        self._writable()
        data = body.encode() if isinstance(body, str) else body
        full = self.handle.prefix + _key_validate(key)
        with self._span("put", key), transaction.atomic():
            info = self.store.object_put(
                bucket=self.handle.bucket, key=full, body=data, content_type=content_type
            )
            OverlayEntry.objects.update_or_create(
                fork_id=self.handle.id,
                key=key,
                defaults={
                    "tombstone": False,
                    "version_id": info.version_id,
                    "etag": info.etag,
                    "size": info.size,
                },
            )
            self._emit(info, full)
        return ObjectInfo(key=key, size=info.size, etag=info.etag, version_id=info.version_id)

    def get(self, key: str) -> bytes:
        with self._span("get", key) as span:
            bucket, full, version = self._resolve(_key_validate(key))
            span.set(fallthrough=bool(version))
            body, _ = self.store.object_get(bucket=bucket, key=full, version_id=version)
            return body

    def head(self, key: str) -> ObjectInfo:
        with self._span("head", key):
            bucket, full, version = self._resolve(_key_validate(key))
            info = self.store.object_head(bucket=bucket, key=full, version_id=version)
            return ObjectInfo(key=key, size=info.size, etag=info.etag, version_id=info.version_id)

    def delete(self, key: str) -> None:
        self._writable()
        _key_validate(key)
        with self._span("delete", key), transaction.atomic():
            existing = OverlayEntry.objects.filter(fork_id=self.handle.id, key=key).first()
            if existing is not None and not existing.tombstone:
                self.store.object_delete(bucket=self.handle.bucket, key=self.handle.prefix + key)
            OverlayEntry.objects.update_or_create(
                fork_id=self.handle.id,
                key=key,
                defaults={"tombstone": True, "version_id": "", "etag": "", "size": 0},
            )

    def list(self, prefix: str = "") -> list[ObjectInfo]:
        """Manifest keys not overridden by the overlay, plus the overlay's live keys, sorted."""
        with self._span("list", prefix):
            overlay = {
                e.key: e for e in OverlayEntry.objects.filter(fork_id=self.handle.id, key__startswith=prefix)
            }
            strip = len(self.checkpoint.prefix)
            merged: dict[str, ObjectInfo] = {}
            pinned = ManifestEntry.objects.filter(
                checkpoint=self.checkpoint, key__startswith=self.checkpoint.prefix + prefix
            ).values_list("key", "etag", "size", "version_id")
            for full, etag, size, version in pinned.iterator(chunk_size=5000):
                key = full[strip:]
                if key not in overlay:
                    merged[key] = ObjectInfo(key=key, size=size, etag=etag, version_id=version)
            for key, entry in overlay.items():
                if not entry.tombstone:
                    merged[key] = ObjectInfo(
                        key=key, size=entry.size, etag=entry.etag, version_id=entry.version_id
                    )
            return [merged[k] for k in sorted(merged)]

    def presigned_get(self, key: str, *, expires_s: int | None = None) -> str:
        with self._span("presign", key):
            bucket, full, version = self._resolve(_key_validate(key))
            return self.store.object_presign_get(
                bucket=bucket,
                key=full,
                version_id=version,
                expires_s=expires_s or settings.STORAGE_PRESIGN_TTL_S,
            )
