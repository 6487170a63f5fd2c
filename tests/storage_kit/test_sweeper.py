# mypy: disable-error-code="union-attr,arg-type,misc"
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from django.db import connection
from django.utils import timezone

from storage_kit.models import Credential, Lifecycle, Workspace
from storage_kit.services.sweeper import storage_sweep
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from tests.storage_kit.conftest import unique

ORCHESTRATOR = textwrap.dedent(
    """
    import sys, time, django
    django.setup()
    from core.context import RequestContext
    from storage_kit import workspace_for_run

    with workspace_for_run(context=RequestContext(tenant_id=int(sys.argv[1])), name=sys.argv[2], ttl_s=1) as run:
        run.handle.objects.put("notes/partial.md", "half-done work")
        print(run.handle.id, flush=True)
        time.sleep(120)  # killed here: the finally never runs
    """
)


def _bucket_exists(server, name: str) -> bool:
    try:
        server.client("s3").head_bucket(Bucket=name)
    except ClientError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_sweeper_removes_workspace_of_a_killed_orchestrator(s3_settings, tenant, actor):
    name = unique("killed")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "EMBEDDED_DB_NAME": connection.settings_dict["NAME"],
        "S3_ENDPOINT_URL": s3_settings.url,
        "S3_ACCESS_KEY_ID": s3_settings.admin_key,
        "S3_SECRET_ACCESS_KEY": s3_settings.admin_secret,
    }
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", ORCHESTRATOR, str(tenant.pk), name], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        workspace_id = int(proc.stdout.readline())
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    row = Workspace.objects.get(pk=workspace_id)
    assert row.status == Lifecycle.ACTIVE
    assert _bucket_exists(s3_settings, name)
    time.sleep(1.1)  # the one-second TTL passes

    report = storage_sweep()
    assert name in report.torn_down, report.errors
    row.refresh_from_db()
    assert row.status == Lifecycle.TORN_DOWN
    assert not _bucket_exists(s3_settings, name)
    assert Credential.objects.get(pk=row.credential_id).revoked_at is not None


@pytest.mark.django_db
def test_sweeper_finds_tagged_orphan_buckets(s3_settings):
    s3 = s3_settings.client("s3")
    expired, fresh, foreign = unique("orphan"), unique("fresh"), unique("foreign")
    past, future = str(int(time.time()) - 10), str(int(time.time()) + 3600)
    for bucket, tags in [
        (expired, {"storage-kit": "workspace", "storage-kit-expires": past}),
        (fresh, {"storage-kit": "workspace", "storage-kit-expires": future}),
        (foreign, {"team": "data"}),
    ]:
        s3.create_bucket(Bucket=bucket)
        s3.put_bucket_tagging(
            Bucket=bucket, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]}
        )
    s3.put_object(Bucket=expired, Key="left.txt", Body=b"x")
    report = storage_sweep()
    assert expired in report.orphans_removed
    assert not _bucket_exists(s3_settings, expired)
    assert _bucket_exists(s3_settings, fresh)
    assert _bucket_exists(s3_settings, foreign)
    for bucket in (fresh, foreign):
        s3.delete_bucket(Bucket=bucket)


@pytest.mark.django_db
def test_teardown_with_store_unreachable_reports_and_sweeper_finishes(s3_settings, tenant, actor, settings):
    handle = workspace_create(actor=actor, name=unique("outage"))
    handle.objects.put("a.txt", "x")
    settings.S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens: the store is down
    report = workspace_teardown(actor=actor, workspace_id=handle.id)
    assert not report.ok
    assert any("not revoked" in e for e in report.errors)
    assert any("objects not deleted" in e for e in report.errors)
    row = Workspace.objects.get(pk=handle.id)
    assert row.status == Lifecycle.TEARDOWN_FAILED
    assert row.errors == report.errors

    settings.S3_ENDPOINT_URL = s3_settings.url  # the store is back
    sweep = storage_sweep()
    assert handle.name in sweep.torn_down
    row.refresh_from_db()
    assert row.status == Lifecycle.TORN_DOWN
    assert row.errors == []
    assert not _bucket_exists(s3_settings, handle.name)


@pytest.mark.django_db
def test_sweeper_leaves_live_workspaces(s3_settings, tenant, actor):
    handle = workspace_create(actor=actor, name=unique("live"), ttl_s=3600)
    expired = workspace_create(actor=actor, name=unique("old"), ttl_s=3600)
    Workspace.objects.filter(pk=expired.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    report = storage_sweep()
    assert expired.name in report.torn_down
    assert handle.name not in report.torn_down
    assert workspace_teardown(actor=actor, workspace_id=handle.id).ok
