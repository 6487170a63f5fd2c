# mypy: disable-error-code="union-attr,arg-type,misc"
from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from core.errors import Conflict, ValidationFailed
from storage_kit.models import Credential, Lifecycle, Workspace
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from tests.storage_kit.conftest import unique


def _denied(call) -> str:
    with pytest.raises(ClientError) as excinfo:
        call()
    return str(excinfo.value.response["Error"]["Code"])


@pytest.mark.django_db
def test_workspace_lifecycle_and_scoped_key(s3_settings, tenant, actor):
    name = unique("ws")
    handle = workspace_create(actor=actor, name=name, ttl_s=600)
    assert handle.bucket == name
    assert handle.credentials is not None
    row = Workspace.objects.get(pk=handle.id)
    assert row.status == Lifecycle.ACTIVE
    assert timedelta(seconds=590) < row.expires_at - row.created_at <= timedelta(seconds=601)
    # The secret is stored encrypted, not in clear.
    cred = Credential.objects.get(pk=row.credential_id)
    assert handle.credentials.secret_access_key not in cred.secret_encrypted

    handle.objects.put("notes/one.md", "first")
    assert handle.objects.get("notes/one.md") == b"first"
    assert [o.key for o in handle.objects.list("notes/")] == ["notes/one.md"]

    c = handle.credentials
    scoped = s3_settings.client("s3", c.access_key_id, c.secret_access_key)
    other = unique("other")
    s3_settings.client("s3").create_bucket(Bucket=other)
    assert _denied(lambda: scoped.put_object(Bucket=other, Key="x", Body=b"x")) == "AccessDenied"
    assert _denied(lambda: scoped.get_object(Bucket=other, Key="x")) == "AccessDenied"
    assert _denied(lambda: scoped.create_bucket(Bucket=unique("nope"))) == "AccessDenied"

    report = workspace_teardown(actor=actor, workspace_id=handle.id)
    assert report.ok, report.errors
    row.refresh_from_db()
    assert row.status == Lifecycle.TORN_DOWN
    assert not s3_settings.client("s3").list_objects_v2(Bucket=other).get("Contents")
    with pytest.raises(ClientError) as excinfo:
        s3_settings.client("s3").head_bucket(Bucket=name)
    assert excinfo.value.response["Error"]["Code"] == "404"
    # Refused after teardown: the key no longer exists.
    assert _denied(lambda: scoped.list_objects_v2(Bucket=other)) in {"InvalidAccessKeyId", "AccessDenied"}


@pytest.mark.django_db
def test_prefix_workspace_cannot_touch_a_neighbour(s3_settings, tenant, actor):
    a = workspace_create(actor=actor, name=unique("wsa"), shared_bucket=True)
    b = workspace_create(actor=actor, name=unique("wsb"), shared_bucket=True)
    assert a.bucket == b.bucket
    assert a.prefix != b.prefix
    b.objects.put("secret.txt", "b's")
    scoped = s3_settings.client("s3", a.credentials.access_key_id, a.credentials.secret_access_key)
    assert _denied(lambda: scoped.get_object(Bucket=b.bucket, Key=f"{b.prefix}secret.txt")) == "AccessDenied"
    assert (
        _denied(lambda: scoped.put_object(Bucket=b.bucket, Key=f"{b.prefix}x", Body=b"x")) == "AccessDenied"
    )
    assert workspace_teardown(actor=actor, workspace_id=a.id).ok
    assert b.objects.get("secret.txt") == b"b's"
    assert workspace_teardown(actor=actor, workspace_id=b.id).ok


@pytest.mark.django_db
def test_read_only_workspace_refuses_writes(s3_settings, tenant, actor):
    handle = workspace_create(actor=actor, name=unique("ro"), role="ReadOnly")
    c = handle.credentials
    scoped = s3_settings.client("s3", c.access_key_id, c.secret_access_key)
    assert _denied(lambda: scoped.put_object(Bucket=handle.bucket, Key="x", Body=b"x")) == "AccessDenied"
    assert workspace_teardown(actor=actor, workspace_id=handle.id).ok


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["UPPER", "a", "has_underscore", "192.168.1.1", "-dash", "x" * 64])
def test_invalid_names_create_nothing(s3_settings, tenant, actor, bad):
    with pytest.raises(ValidationFailed) as excinfo:
        workspace_create(actor=actor, name=bad)
    assert "name" in excinfo.value.details
    assert not Workspace.objects.exists()


@pytest.mark.django_db
def test_existing_name_is_a_conflict(s3_settings, tenant, actor):
    name = unique("dup")
    handle = workspace_create(actor=actor, name=name)
    with pytest.raises(Conflict):
        workspace_create(actor=actor, name=name)
    assert Workspace.objects.count() == 1
    assert workspace_teardown(actor=actor, workspace_id=handle.id).ok
