# mypy: disable-error-code="union-attr,arg-type,misc"
"""Storage calls reach only locations the caller's tenant owns, and objects the caller may manage."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from core.models import Membership
from storage_kit.models import Checkpoint, Fork
from tests.factories import TenantFactory, UserFactory
from tests.storage_kit.conftest import unique


def _client(user: Any) -> APIClient:
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def stranger(db: None) -> APIClient:
    """A user of another tenant."""
    return _client(UserFactory())


@pytest.fixture
def colleague(tenant: Any) -> APIClient:
    """Another member of the same tenant."""
    return _client(UserFactory(tenant=tenant))


@pytest.fixture
def tenant_admin(tenant: Any) -> APIClient:
    return _client(UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN))


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {**body, "message": body["message"].replace(name, "<bucket>")}


def test_a_bucket_of_another_tenant_answers_like_a_missing_one(
    s3_settings, api_client, stranger, source_bucket
):
    workspace = api_client.post("/api/storage/workspaces/", {"name": unique("own")}, format="json").json()
    missing_name = unique("nosuch")
    missing = stranger.post("/api/storage/checkpoints/", {"bucket": missing_name, "name": "x"}, format="json")
    assert missing.status_code == 404
    for bucket in (source_bucket, workspace["bucket"], settings.STORAGE_WORKSPACE_BUCKET):
        foreign = stranger.post("/api/storage/checkpoints/", {"bucket": bucket, "name": "x"}, format="json")
        assert foreign.status_code == 404, (bucket, foreign.content)
        assert _without(foreign.json(), bucket) == _without(missing.json(), missing_name)
        forks = stranger.post("/api/storage/forks/", {"source_bucket": bucket, "count": 1}, format="json")
        assert forks.status_code == 404
        assert forks.json()["details"] == {"source_bucket": ["Not found."]}
    assert not Checkpoint.objects.exists()
    assert not Fork.objects.exists()
    assert api_client.post(f"/api/storage/workspaces/{workspace['id']}/teardown/").json()["ok"] is True


def test_the_shared_workspace_bucket_is_reachable_only_inside_ones_own_prefix(
    s3_settings, api_client, colleague
):
    mine = api_client.post(
        "/api/storage/workspaces/", {"name": unique("pfx"), "shared_bucket": True}, format="json"
    ).json()
    theirs = colleague.post(
        "/api/storage/workspaces/", {"name": unique("pfx"), "shared_bucket": True}, format="json"
    ).json()
    bucket = mine["bucket"]
    assert bucket == theirs["bucket"] == settings.STORAGE_WORKSPACE_BUCKET
    for prefix in ("", theirs["prefix"]):
        response = api_client.post(
            "/api/storage/checkpoints/", {"bucket": bucket, "prefix": prefix, "name": "x"}, format="json"
        )
        assert response.status_code == 404, prefix
    own = api_client.post(
        "/api/storage/checkpoints/", {"bucket": bucket, "prefix": mine["prefix"], "name": "x"}, format="json"
    )
    assert own.status_code == 201, own.content
    assert api_client.delete(f"/api/storage/checkpoints/{own.json()['id']}/").status_code == 204
    for client, ws in ((api_client, mine), (colleague, theirs)):
        assert client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True


def test_a_foreign_checkpoint_left_from_before_does_not_block_teardown(s3_settings, api_client):
    workspace = api_client.post("/api/storage/workspaces/", {"name": unique("tear")}, format="json").json()
    other_tenant = TenantFactory()
    Checkpoint.objects.create(tenant=other_tenant, bucket=workspace["bucket"], name="planted")
    report = api_client.post(f"/api/storage/workspaces/{workspace['id']}/teardown/").json()
    assert report["ok"] is True, report["errors"]


def test_members_reach_their_own_storage_and_tenant_admins_all(
    s3_settings, api_client, colleague, tenant_admin, source_bucket
):
    ws = api_client.post("/api/storage/workspaces/", {"name": unique("mine")}, format="json").json()
    cp = api_client.post(
        "/api/storage/checkpoints/", {"bucket": source_bucket, "name": "base"}, format="json"
    )
    assert cp.status_code == 201
    cp_id = cp.json()["id"]
    fork = api_client.post("/api/storage/forks/", {"checkpoint_id": cp_id, "count": 1}, format="json").json()
    fork_id = fork["forks"][0]["id"]
    # Another member: every object of the first is "not found", lists are empty.
    for path in (f"workspaces/{ws['id']}/", f"checkpoints/{cp_id}/", f"forks/{fork_id}/"):
        assert colleague.get(f"/api/storage/{path}").status_code == 404, path
    assert colleague.get("/api/storage/workspaces/").json()["results"] == []
    assert colleague.get("/api/storage/forks/").json()["results"] == []
    assert colleague.get("/api/storage/checkpoints/").json()["results"] == []
    assert colleague.post(f"/api/storage/workspaces/{ws['id']}/teardown/").status_code == 404
    assert colleague.post(f"/api/storage/forks/{fork_id}/teardown/").status_code == 404
    assert colleague.delete(f"/api/storage/checkpoints/{cp_id}/").status_code == 404
    restore = colleague.post(
        f"/api/storage/checkpoints/{cp_id}/restore/", {"fork_name": unique("r")}, format="json"
    )
    assert restore.status_code == 404
    reuse = colleague.post("/api/storage/forks/", {"checkpoint_id": cp_id, "count": 1}, format="json")
    assert reuse.status_code == 404
    snoop = colleague.post(
        "/api/storage/checkpoints/", {"bucket": ws["bucket"], "name": "snoop"}, format="json"
    )
    assert snoop.status_code == 404
    # The tenant's registered dataset is the colleague's to use too.
    assert (
        colleague.post(
            "/api/storage/checkpoints/", {"bucket": source_bucket, "name": "theirs"}, format="json"
        ).status_code
        == 201
    )
    assert [d["bucket"] for d in colleague.get("/api/storage/datasets/").json()["results"]] == [source_bucket]
    # A tenant admin reaches everything of the tenant.
    assert tenant_admin.get(f"/api/storage/workspaces/{ws['id']}/").status_code == 200
    assert {w["id"] for w in tenant_admin.get("/api/storage/workspaces/").json()["results"]} == {ws["id"]}
    assert tenant_admin.get(f"/api/storage/checkpoints/{cp_id}/").status_code == 200
    assert tenant_admin.post(f"/api/storage/forks/{fork_id}/teardown/").json()["ok"] is True
    assert tenant_admin.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True
    assert Fork.objects.get(pk=fork_id).owner_id is not None


def test_ttl_beyond_the_maximum_is_a_400(s3_settings, api_client):
    response = api_client.post(
        "/api/storage/workspaces/", {"name": unique("ttl"), "ttl_s": 10**14}, format="json"
    )
    assert response.status_code == 400
    assert "ttl_s" in response.json()["details"]


def test_a_checkpoint_taken_on_a_foreign_location_cannot_be_restored_or_forked(
    s3_settings, api_client, tenant
):
    """A row left from before locations were checked: its owner may not turn it into a key on that bucket."""
    workspace = api_client.post("/api/storage/workspaces/", {"name": unique("victim")}, format="json").json()
    other = TenantFactory()
    intruder = UserFactory(tenant=other)
    planted = Checkpoint.objects.create(
        tenant=other, owner=intruder, bucket=workspace["bucket"], name="planted"
    )
    client = _client(intruder)
    restore = client.post(
        f"/api/storage/checkpoints/{planted.pk}/restore/", {"fork_name": unique("r")}, format="json"
    )
    assert restore.status_code == 404
    forks = client.post("/api/storage/forks/", {"checkpoint_id": planted.pk, "count": 1}, format="json")
    assert forks.status_code == 404
    assert not Fork.objects.exists()
    Checkpoint.objects.filter(pk=planted.pk).delete()
    assert api_client.post(f"/api/storage/workspaces/{workspace['id']}/teardown/").json()["ok"] is True


def test_teardown_keeps_a_shared_bucket_workspace_whose_prefix_a_checkpoint_pins(s3_settings, api_client):
    ws = api_client.post(
        "/api/storage/workspaces/", {"name": unique("pin"), "shared_bucket": True}, format="json"
    ).json()
    s3 = s3_settings.client("s3")
    s3.put_object(Bucket=ws["bucket"], Key=f"{ws['prefix']}notes.md", Body=b"kept")
    cp = api_client.post(
        "/api/storage/checkpoints/",
        {"bucket": ws["bucket"], "prefix": ws["prefix"], "name": "pin"},
        format="json",
    ).json()
    report = api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()
    assert report["ok"] is False
    assert report["errors"][-1] == (
        f"s3://{ws['bucket']}/{ws['prefix']}: kept, checkpoint 'pin' (id {cp['id']}) pins versions under "
        f"it; delete it (DELETE /api/storage/checkpoints/{cp['id']}/) and tear down again"
    )
    fork = api_client.post(
        f"/api/storage/checkpoints/{cp['id']}/restore/", {"fork_name": unique("pinr")}, format="json"
    ).json()
    assert api_client.get(f"/api/storage/forks/{fork['id']}/").status_code == 200
    assert api_client.post(f"/api/storage/forks/{fork['id']}/teardown/").json()["ok"] is True
    assert api_client.delete(f"/api/storage/checkpoints/{cp['id']}/").status_code == 204
    assert api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True


def test_teardown_blocked_by_the_checkpoint_of_its_forks_names_the_forks(s3_settings, api_client, tenant):
    name = unique("research")
    ws = api_client.post("/api/storage/workspaces/", {"name": name}, format="json").json()
    s3_settings.client("s3").put_object(Bucket=ws["bucket"], Key="notes.md", Body=b"kept")
    cp1 = api_client.post("/api/storage/checkpoints/", {"bucket": ws["bucket"], "name": "cp1"}, format="json")
    assert cp1.status_code == 201, cp1.json()
    made = api_client.post("/api/storage/forks/", {"source_bucket": ws["bucket"], "count": 3}, format="json")
    assert made.status_code == 201, made.json()
    forks = sorted(made.json()["forks"], key=lambda f: f["name"])
    assert api_client.delete(f"/api/storage/checkpoints/{cp1.json()['id']}/").status_code == 204
    listed = api_client.get(f"/api/storage/checkpoints/?bucket={ws['bucket']}").json()["results"]
    assert listed == []  # what pins the bucket is the forks' checkpoint, which goes with them

    report = api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()
    assert report["ok"] is False
    named = ", ".join(f"{f['name']} (fork {f['id']})" for f in forks)
    assert report["errors"] == [
        f"s3://{ws['bucket']}/: kept, its forks still read the versions they were made from: {named}; "
        "tear them down (POST /api/storage/forks/<id>/teardown/, or teardown_forks for their fork set) "
        "and tear down again"
    ]
    for fork in forks:
        assert api_client.post(f"/api/storage/forks/{fork['id']}/teardown/").json()["ok"] is True
    assert api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True


def test_a_teardown_does_not_name_another_owners_checkpoint(s3_settings, api_client, user, tenant):
    ws = api_client.post("/api/storage/workspaces/", {"name": unique("named")}, format="json").json()
    admin = UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN)
    planted = _client(admin).post(
        "/api/storage/checkpoints/", {"bucket": ws["bucket"], "name": "admins-secret-name"}, format="json"
    )
    assert planted.status_code == 201, planted.json()
    report = api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()
    assert report["ok"] is False
    assert report["errors"] == [
        f"s3://{ws['bucket']}/: kept, checkpoints or forks of another owner pin versions under it; "
        "a tenant admin can remove them"
    ]
    assert _client(admin).delete(f"/api/storage/checkpoints/{planted.json()['id']}/").status_code == 204
    assert api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True


def test_a_forks_checkpoint_left_without_forks_still_keeps_the_objects(s3_settings, api_client, user, tenant):
    ws = api_client.post("/api/storage/workspaces/", {"name": unique("orphan")}, format="json").json()
    s3 = s3_settings.client("s3")
    s3.put_object(Bucket=ws["bucket"], Key="notes.md", Body=b"kept")
    left = Checkpoint.objects.create(
        tenant=tenant, owner=user, bucket=ws["bucket"], name="forks-0a1b2c", internal=True
    )
    report = api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()
    assert report["ok"] is False
    assert f"checkpoint 'forks-0a1b2c' (id {left.pk})" in report["errors"][-1]
    assert s3.get_object(Bucket=ws["bucket"], Key="notes.md")["Body"].read() == b"kept"
    assert api_client.delete(f"/api/storage/checkpoints/{left.pk}/").status_code == 204
    assert api_client.post(f"/api/storage/workspaces/{ws['id']}/teardown/").json()["ok"] is True
