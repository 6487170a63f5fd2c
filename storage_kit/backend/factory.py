"""Store instances built from settings (admin) or from a minted credential (scoped)."""

from __future__ import annotations

import threading
from collections import OrderedDict

from django.conf import settings

from storage_kit.backend.base import Credentials, ObjectStore

_lock = threading.Lock()
_stores: OrderedDict[tuple[str, ...], ObjectStore] = OrderedDict()
_MAX_CACHED = 256


def _build(credentials: Credentials | None) -> ObjectStore:
    from storage_kit.backend.s3 import Boto3Store

    return Boto3Store(
        endpoint_url=settings.S3_ENDPOINT_URL or None,
        region=settings.S3_REGION,
        credentials=credentials,
        iam_endpoint_url=settings.STORAGE_IAM_ENDPOINT_URL or None,
        sts_endpoint_url=settings.STORAGE_STS_ENDPOINT_URL or None,
        multipart_threshold=settings.STORAGE_MULTIPART_THRESHOLD,
        list_page_size=settings.STORAGE_LIST_PAGE_SIZE,
        read_timeout_s=settings.STORAGE_READ_TIMEOUT_S,
    )


def _cached(key: tuple[str, ...], credentials: Credentials | None) -> ObjectStore:
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _build(credentials)
            _stores[key] = store
            while len(_stores) > _MAX_CACHED:
                _stores.popitem(last=False)
        else:
            _stores.move_to_end(key)
        return store


def admin_store() -> ObjectStore:
    """The store with the platform's keys (S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY, else boto3's chain)."""
    key_id = settings.S3_ACCESS_KEY_ID
    credentials = (
        Credentials(access_key_id=key_id, secret_access_key=settings.S3_SECRET_ACCESS_KEY) if key_id else None
    )
    return _cached(("admin", settings.S3_ENDPOINT_URL, key_id, settings.S3_SECRET_ACCESS_KEY), credentials)


def scoped_store(credentials: Credentials) -> ObjectStore:
    """A store that acts with a minted credential, so the store enforces its scope."""
    return _cached(
        ("scoped", settings.S3_ENDPOINT_URL, credentials.access_key_id, credentials.session_token),
        credentials,
    )
