# mypy: disable-error-code="union-attr,arg-type,misc"
from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from botocore.exceptions import ClientError

from core.errors import Conflict, NotFound, ValidationFailed
from storage_kit.models import Checkpoint, Fork, ForkSet, Lifecycle, ManifestEntry, OverlayEntry
from storage_kit.services.checkpoints import checkpoint_create, checkpoint_delete, checkpoint_list
from storage_kit.services.forks import checkpoint_restore, forks_create, forks_teardown
from storage_kit.services.locations import dataset_register
from storage_kit.services.sweeper import source_delete, versions_gc
from tests.storage_kit.conftest import unique


@pytest.fixture
def forkset(s3_settings, tenant, actor, source_bucket):
    result = forks_create(actor=actor, source_bucket=source_bucket, count=2)
    assert not result.failures
    yield result
    forks_teardown(actor=actor, fork_set_id=result.fork_set_id)


def test_fork_isolation_fallthrough_tombstones_and_listing(
    s3_settings, tenant, actor, source_bucket, forkset
):
    a, b = (f.objects for f in forkset.forks)
    # Reads fall through to the pinned source versions.
    assert a.get("data/a.txt") == b"alpha"
    assert b.get("data/a.txt") == b"alpha"
    # A write in fork A is invisible in fork B and in the source.
    a.put("data/a.txt", "changed in A")
    a.put("new.txt", "only in A")
    assert a.get("data/a.txt") == b"changed in A"
    assert b.get("data/a.txt") == b"alpha"
    src = s3_settings.client("s3")
    assert src.get_object(Bucket=source_bucket, Key="data/a.txt")["Body"].read() == b"alpha"
    with pytest.raises(NotFound):
        b.get("new.txt")
    # Deletes are tombstones: gone in A, still in B and the source.
    a.delete("data/b.txt")
    with pytest.raises(NotFound):
        a.get("data/b.txt")
    assert b.get("data/b.txt") == b"bravo"
    assert OverlayEntry.objects.get(fork_id=forkset.forks[0].id, key="data/b.txt").tombstone
    # Listing merges manifest and overlay.
    assert [o.key for o in a.list()] == ["data/a.txt", "new.txt", "readme.md"]
    assert [o.key for o in a.list("data/")] == ["data/a.txt"]
    assert [o.key for o in b.list()] == ["data/a.txt", "data/b.txt", "readme.md"]
    assert a.head("data/a.txt").size == len(b"changed in A")
    # A presigned GET of a fall-through key names the pinned version and is signed by the fork's own key.
    # (moto answers 500 to presigned requests while IAM enforcement is on, so the URL is checked, not fetched.)
    url = urlparse(b.presigned_get("readme.md"))
    query = parse_qs(url.query)
    pinned = ManifestEntry.objects.get(checkpoint_id=forkset.checkpoint_id, key="readme.md").version_id
    assert url.path == f"/{source_bucket}/readme.md"
    assert query["versionId"] == [pinned]
    assert query["X-Amz-Credential"][0].startswith(forkset.forks[1].credentials.access_key_id + "/")


def test_fork_keys_are_scoped_to_their_fork(s3_settings, forkset, source_bucket):
    fa, fb = forkset.forks
    scoped = s3_settings.client("s3", fa.credentials.access_key_id, fa.credentials.secret_access_key)
    with pytest.raises(ClientError) as excinfo:
        scoped.put_object(Bucket=fb.bucket, Key=f"{fb.prefix}x", Body=b"x")
    assert excinfo.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        scoped.put_object(Bucket=source_bucket, Key="data/a.txt", Body=b"overwrite the source")


def test_creating_forks_writes_rows_not_objects(s3_settings, forkset):
    s3 = s3_settings.client("s3")
    bucket = forkset.forks[0].bucket
    assert not s3.list_objects_v2(Bucket=bucket, Prefix=forkset.forks[0].prefix).get("Contents")
    assert ManifestEntry.objects.filter(checkpoint_id=forkset.checkpoint_id).count() == 3


def test_checkpoint_is_immutable_and_restores(s3_settings, tenant, actor, source_bucket):
    info = checkpoint_create(actor=actor, bucket=source_bucket, name="baseline")
    assert info.object_count == 3
    assert info.total_bytes == len(b"alpha" + b"bravo" + b"# dataset")
    s3 = s3_settings.client("s3")
    s3.put_object(Bucket=source_bucket, Key="data/a.txt", Body=b"source moved on")
    s3.delete_object(Bucket=source_bucket, Key="readme.md")
    s3.put_object(Bucket=source_bucket, Key="data/c.txt", Body=b"added later")
    fork = checkpoint_restore(actor=actor, checkpoint_id=info.id, fork_name=unique("debug"))
    assert fork.objects.get("data/a.txt") == b"alpha"
    assert fork.objects.get("readme.md") == b"# dataset"
    assert [o.key for o in fork.objects.list()] == ["data/a.txt", "data/b.txt", "readme.md"]
    with pytest.raises(Conflict):
        checkpoint_restore(actor=actor, checkpoint_id=info.id, fork_name=fork.name)
    with pytest.raises(NotFound):
        checkpoint_restore(actor=actor, checkpoint_id=999999, fork_name=unique("x"))
    # A source with a live checkpoint or fork cannot be deleted by the kit.
    with pytest.raises(Conflict):
        source_delete(actor=actor, bucket=source_bucket)
    with pytest.raises(Conflict):
        checkpoint_delete(actor=actor, checkpoint_id=info.id)
    from storage_kit.services.forks import fork_teardown

    assert fork_teardown(actor=actor, fork_id=fork.id).ok


def test_materialized_fork_copies_pinned_versions(s3_settings, tenant, actor, source_bucket):
    info = checkpoint_create(actor=actor, bucket=source_bucket, name="m")
    s3 = s3_settings.client("s3")
    s3.put_object(Bucket=source_bucket, Key="data/a.txt", Body=b"later")
    result = forks_create(actor=actor, checkpoint_id=info.id, count=1, mode="materialized")
    fork = result.forks[0]
    assert s3.get_object(Bucket=fork.bucket, Key="data/a.txt")["Body"].read() == b"alpha"
    c = fork.credentials
    scoped = s3_settings.client("s3", c.access_key_id, c.secret_access_key)
    scoped.put_object(Bucket=fork.bucket, Key="out.txt", Body=b"plain s3")
    report = forks_teardown(actor=actor, fork_set_id=result.fork_set_id)
    assert report.ok, report.errors
    with pytest.raises(ClientError):
        s3.head_bucket(Bucket=fork.bucket)


def test_unversioned_source_names_the_fix(s3_settings, tenant, actor):
    name = unique("plain")
    s3_settings.client("s3").create_bucket(Bucket=name)
    dataset_register(tenant_id=tenant.pk, name=name, bucket=name)
    with pytest.raises(ValidationFailed) as excinfo:
        forks_create(actor=actor, source_bucket=name, count=2)
    assert "put-bucket-versioning" in excinfo.value.message
    assert not ForkSet.objects.exists()
    assert not Checkpoint.objects.exists()


@pytest.mark.parametrize("count", [0, -1, 11])
def test_fork_count_bounds(s3_settings, tenant, actor, source_bucket, count):
    with pytest.raises(ValidationFailed) as excinfo:
        forks_create(actor=actor, source_bucket=source_bucket, count=count)
    assert "count" in excinfo.value.details
    assert not Checkpoint.objects.exists()


def test_partial_creation_reports_failures_and_leaves_nothing(s3_settings, tenant, actor, source_bucket):
    # Someone else already holds the IAM user names forks 3 and 4 would get: 3 of 5 are created.
    iam = s3_settings.client("iam")
    prefix = unique("part")
    info = checkpoint_create(actor=actor, bucket=source_bucket, name="p")
    iam.create_user(UserName=f"sk-fork-{prefix}-3")
    iam.create_user(UserName=f"sk-fork-{prefix}-4")
    result = forks_create(actor=actor, checkpoint_id=info.id, count=5, name_prefix=prefix)
    assert [f.name for f in result.forks] == [f"{prefix}-0", f"{prefix}-1", f"{prefix}-2"]
    assert len(result.failures) == 2
    assert all("CreateUser" in f for f in result.failures)
    # The failed forks were cleaned up: no live row, no credential left.
    assert Fork.objects.filter(name__startswith=prefix).exclude(status=Lifecycle.TORN_DOWN).count() == 3
    # The other party's users were not touched.
    assert iam.get_user(UserName=f"sk-fork-{prefix}-3")["User"]["UserName"]
    report = forks_teardown(actor=actor, fork_set_id=result.fork_set_id)
    assert report.ok, report.errors


def test_checkpoint_list_paginates(s3_settings, tenant, actor, source_bucket):
    for n in range(5):
        checkpoint_create(actor=actor, bucket=source_bucket, name=f"cp-{n}")
    page = checkpoint_list(actor=actor, bucket=source_bucket, limit=2)
    names = [c.name for c in page.items]
    while page.next_cursor:
        page = checkpoint_list(actor=actor, bucket=source_bucket, limit=2, cursor=page.next_cursor)
        names += [c.name for c in page.items]
    assert names == ["cp-4", "cp-3", "cp-2", "cp-1", "cp-0"]
    with pytest.raises(ValidationFailed):
        checkpoint_list(actor=actor, cursor="!!")
    with pytest.raises(Conflict):
        checkpoint_create(actor=actor, bucket=source_bucket, name="cp-0")


def test_gc_removes_only_unreferenced_versions(s3_settings, tenant, actor, source_bucket):
    s3 = s3_settings.client("s3")
    keep = checkpoint_create(actor=actor, bucket=source_bucket, name="keep")
    s3.put_object(Bucket=source_bucket, Key="data/a.txt", Body=b"v2")
    drop = checkpoint_create(actor=actor, bucket=source_bucket, name="drop")
    s3.put_object(Bucket=source_bucket, Key="data/a.txt", Body=b"v3")

    def versions():
        listing = s3.list_object_versions(Bucket=source_bucket, Prefix="data/a.txt")["Versions"]
        return {v["VersionId"] for v in listing}

    assert len(versions()) == 3
    checkpoint_delete(actor=actor, checkpoint_id=drop.id)
    assert versions_gc() == 1  # v2, pinned only by the deleted checkpoint
    remaining = versions()
    pinned = ManifestEntry.objects.get(checkpoint_id=keep.id, key="data/a.txt").version_id
    assert len(remaining) == 2
    assert pinned in remaining
    assert s3.get_object(Bucket=source_bucket, Key="data/a.txt", VersionId=pinned)["Body"].read() == b"alpha"


def test_invalid_fork_names_create_nothing(s3_settings, tenant, actor, source_bucket):
    with pytest.raises(ValidationFailed) as excinfo:
        forks_create(actor=actor, source_bucket=source_bucket, count=2, name_prefix="Bad_Prefix")
    assert "name_prefix" in excinfo.value.details
    assert not Checkpoint.objects.exists()
    assert not ForkSet.objects.exists()
    with pytest.raises(NotFound):
        forks_create(actor=actor, checkpoint_id=424242, count=1)
