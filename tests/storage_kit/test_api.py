# mypy: disable-error-code="union-attr,arg-type,misc"
from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from storage_kit.models import Workspace
from tests.factories import UserFactory
from tests.storage_kit.conftest import unique


@pytest.fixture
def other_client(db):
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=UserFactory())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_workspace_routes_and_tenant_isolation(s3_settings, api_client, other_client):
    name = unique("api")
    created = api_client.post("/api/storage/workspaces/", {"name": name, "ttl_s": 300}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == name
    assert not {"credentials", "secret_access_key", "access_key_id"} & set(body)
    ws_id = body["id"]
    assert [w["name"] for w in api_client.get("/api/storage/workspaces/").json()["results"]] == [name]
    assert other_client.get("/api/storage/workspaces/").json()["results"] == []
    assert other_client.get(f"/api/storage/workspaces/{ws_id}/").status_code == 404
    assert other_client.post(f"/api/storage/workspaces/{ws_id}/teardown/").status_code == 404
    torn = api_client.post(f"/api/storage/workspaces/{ws_id}/teardown/")
    assert torn.status_code == 200
    assert torn.json()["ok"] is True
    assert api_client.get(f"/api/storage/workspaces/{ws_id}/").json()["status"] == "torn_down"


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"name": "Bad_Name"}, "name"), ({"name": "ok-name", "ttl_s": 0}, "ttl_s"), ({}, "name")],
)
def test_workspace_bad_input_is_a_400_with_fields(s3_settings, api_client, payload, field):
    response = api_client.post("/api/storage/workspaces/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["details"]
    assert not Workspace.objects.exists()


def test_forks_checkpoints_restore_and_deliveries(s3_settings, api_client, other_client, source_bucket):
    cp = api_client.post(
        "/api/storage/checkpoints/", {"bucket": source_bucket, "name": "base"}, format="json"
    )
    assert cp.status_code == 201
    assert cp.json()["object_count"] == 3
    cp_id = cp.json()["id"]
    assert other_client.get(f"/api/storage/checkpoints/{cp_id}/").status_code == 404
    assert (
        other_client.post(
            f"/api/storage/checkpoints/{cp_id}/restore/", {"fork_name": unique("x")}
        ).status_code
        == 404
    )
    bad = api_client.post("/api/storage/forks/", {"checkpoint_id": cp_id, "count": 0}, format="json")
    assert bad.status_code == 400
    assert "count" in bad.json()["details"]
    unknown = api_client.post("/api/storage/forks/", {"checkpoint_id": 987654, "count": 1}, format="json")
    assert unknown.status_code == 404
    made = api_client.post("/api/storage/forks/", {"checkpoint_id": cp_id, "count": 2}, format="json")
    assert made.status_code == 201
    assert len(made.json()["forks"]) == 2
    assert made.json()["failures"] == []
    restored = api_client.post(
        f"/api/storage/checkpoints/{cp_id}/restore/", {"fork_name": unique("r")}, format="json"
    )
    assert restored.status_code == 201
    again = api_client.post(
        f"/api/storage/checkpoints/{cp_id}/restore/", {"fork_name": restored.json()["name"]}, format="json"
    )
    assert again.status_code == 409
    listed = api_client.get("/api/storage/forks/").json()["results"]
    assert len(listed) == 3
    assert other_client.get("/api/storage/forks/").json()["results"] == []
    assert api_client.delete(f"/api/storage/checkpoints/{cp_id}/").status_code == 409  # forks read from it
    for fork in listed:
        assert api_client.post(f"/api/storage/forks/{fork['id']}/teardown/").json()["ok"] is True
    assert api_client.delete(f"/api/storage/checkpoints/{cp_id}/").status_code == 204
    listing = api_client.get("/api/storage/checkpoints/").json()
    assert listing["results"] == []
    assert listing["next_cursor"] is None
    assert api_client.get("/api/storage/deliveries/").status_code == 200
