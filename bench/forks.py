"""Fork and checkpoint costs against a real S3 server (moto in server mode, boto3 over HTTP).

    DJANGO_SETTINGS_MODULE=config.settings.test .venv/bin/python bench/forks.py [--sizes 1000,10000,100000]

Measures, on one versioned source bucket grown to each size in turn:
- the time to checkpoint it (listing every version and COPYing the manifest into PostgreSQL);
- the time to create 5 overlay forks from that checkpoint (median of --repeat runs; each run
  mints 5 scoped IAM users and keys and writes the fork rows; teardown is not timed);
- the bytes stored in the object store (every version in the source and the fork bucket) before
  and after forking, and the manifest's size in PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("EMBEDDED_DB_NAME", "bench_storage")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from core.access import Actor  # noqa: E402
from core.tenancy import tenant_get_or_create  # noqa: E402
from storage_kit import credentials  # noqa: E402
from storage_kit.backend import VersionInfo  # noqa: E402
from storage_kit.models import Checkpoint  # noqa: E402
from storage_kit.services.checkpoints import _manifest_copy, checkpoint_create  # noqa: E402
from storage_kit.services.forks import forks_create, forks_teardown  # noqa: E402
from storage_kit.services.locations import dataset_register  # noqa: E402
from tests.storage_kit.conftest import moto_start  # noqa: E402

BODY = b"x" * 64


class TimedStrategy:
    """The iam_user strategy, timed: separates the store's IAM latency from the kit's own work."""

    name = "iam_user"

    def __init__(self) -> None:
        self.inner = credentials.IamUserStrategy()
        self.spent_s = 0.0

    def mint(self, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return self.inner.mint(**kwargs)
        finally:
            self.spent_s += time.perf_counter() - started

    def revoke(self, **kwargs: Any) -> None:
        self.inner.revoke(**kwargs)


def stored_bytes(s3: Any, buckets: list[str]) -> int:
    total = 0
    for bucket in buckets:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            total += sum(v["Size"] for v in page.get("Versions", []))
    return total


def grow(s3: Any, bucket: str, start: int, stop: int) -> None:
    def put(i: int) -> None:
        s3.put_object(Bucket=bucket, Key=f"data/{i:07d}.txt", Body=BODY)

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, range(start, stop)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--synthetic-above",
        type=int,
        default=10_000,
        help="sizes above this get a manifest written straight to PostgreSQL (moto cannot list them, see docs)",
    )
    parser.add_argument(
        "--page-size", type=int, default=100_000, help="ListObjectVersions page size (see docs)"
    )
    parser.add_argument(
        "--no-auth", action="store_true", help="moto without IAM enforcement (faster population)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    call_command("migrate", verbosity=0)
    server = moto_start(enforce_auth=not args.no_auth)
    try:
        settings.S3_ENDPOINT_URL = server.url
        settings.S3_ACCESS_KEY_ID = server.admin_key
        settings.S3_SECRET_ACCESS_KEY = server.admin_secret
        settings.STORAGE_CREDENTIALS_STRATEGY = "iam_user"
        settings.STORAGE_LIST_PAGE_SIZE = args.page_size
        settings.STORAGE_READ_TIMEOUT_S = 600.0  # one 100,000-key listing page takes minutes on moto
        timed = TimedStrategy()
        credentials.STRATEGIES["timed"] = timed
        settings.STORAGE_CREDENTIALS_STRATEGY = "timed"
        tenant = tenant_get_or_create(slug=f"bench-{int(time.time())}")
        s3 = server.client("s3")
        source = f"bench-src-{int(time.time())}"
        s3.create_bucket(Bucket=source)
        s3.put_bucket_versioning(Bucket=source, VersioningConfiguration={"Status": "Enabled"})
        dataset_register(tenant_id=tenant.pk, name=source, bucket=source)
        actor = Actor.system(tenant_id=tenant.pk)
        print(
            f"{'objects':>8} {'populate s':>10} {'checkpoint s':>12} {'5 forks ms (median, min-max)':>30} "
            f"{'not IAM ms':>18} {'store bytes before':>18} {'after':>12} {'manifest MB':>11}"
        )
        have = 0
        for size in sizes:
            synthetic = size > args.synthetic_above
            started = time.perf_counter()
            if not synthetic:
                grow(s3, source, have, size)
                have = size
            populate_s = time.perf_counter() - started

            started = time.perf_counter()
            if synthetic:
                # The kit's side of a checkpoint only: COPY the manifest rows (keys not in the store).
                checkpoint = Checkpoint.objects.create(tenant_id=tenant.pk, bucket=source, name=f"n{size}")
                rows = (
                    VersionInfo(
                        key=f"data/{i:07d}.txt",
                        version_id=f"v{i}",
                        etag="e" * 32,
                        size=len(BODY),
                        is_latest=True,
                        is_delete_marker=False,
                    )
                    for i in range(size)
                )
                _manifest_copy(checkpoint.pk, rows)
                checkpoint_id = checkpoint.pk
            else:
                checkpoint_id = checkpoint_create(actor=actor, bucket=source, name=f"n{size}").id
            checkpoint_s = time.perf_counter() - started

            buckets = [source, settings.STORAGE_FORKS_BUCKET] if size != sizes[0] else [source]
            before = stored_bytes(s3, buckets)
            timings = []
            kit_timings = []
            after = before
            for n in range(args.repeat):
                timed.spent_s = 0.0
                started = time.perf_counter()
                result = forks_create(
                    actor=actor,
                    checkpoint_id=checkpoint_id,
                    count=5,
                    name_prefix=f"b{size}-{n}-{int(time.time())}",
                )
                timings.append((time.perf_counter() - started) * 1000)
                kit_timings.append(timings[-1] - timed.spent_s * 1000)
                assert len(result.forks) == 5, result.failures
                if n == 0:
                    after = stored_bytes(s3, [source, settings.STORAGE_FORKS_BUCKET])
                report = forks_teardown(actor=actor, fork_set_id=result.fork_set_id)
                assert report.ok, report.errors
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_total_relation_size('storage_kit_manifestentry')")
                manifest_mb = cursor.fetchone()[0] / 1e6
            print(
                f"{size:>7}{'*' if synthetic else ' '} {populate_s:>10.1f} {checkpoint_s:>12.2f} "
                f"{statistics.median(timings):>12.1f} ({min(timings):.1f}-{max(timings):.1f}){'':>8} "
                f"{statistics.median(kit_timings):>18.1f} "
                f"{before:>18} {after:>12} {manifest_mb:>11.1f}",
                flush=True,
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
