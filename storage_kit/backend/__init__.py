"""The object store behind the kit: one small interface, one boto3 implementation.

`admin_store()` acts with the platform's own keys (settings); `scoped_store()`
acts with a minted credential, so the store itself enforces the scope.
"""

from storage_kit.backend.base import (
    AccessKey,
    Credentials,
    ObjectInfo,
    ObjectStore,
    StoreAccessDenied,
    StoreError,
    StoreNotFound,
    VersionInfo,
)
from storage_kit.backend.factory import admin_store, scoped_store

__all__ = [
    "AccessKey",
    "Credentials",
    "ObjectInfo",
    "ObjectStore",
    "StoreAccessDenied",
    "StoreError",
    "StoreNotFound",
    "VersionInfo",
    "admin_store",
    "scoped_store",
]
