"""The memory API: Mastra shapes, validation, and the isolation matrix."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from memory.models import Message, MessageEmbedding, Thread
from tests.memory.conftest import config, new_tenant, new_user, say

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def scripted_embedder(openai_server: Any, settings: Any) -> Any:
    settings.EMBEDDER = "scripted/embed-test"
    return openai_server


def test_thread_lifecycle_in_mastra_shapes(scripted_embedder, api_client, user):
    created = api_client.post(
        "/api/memory/threads", {"threadId": "t1", "title": "Trip", "metadata": {"k": 1}}, format="json"
    )
    assert created.status_code == 201, created.json()
    assert created.json()["resourceId"] == str(user.pk)
    assert {"id", "resourceId", "title", "metadata", "createdAt", "updatedAt"} <= set(created.json())
    tenant_id = Thread.objects.get(id="t1").tenant_id
    for i in range(3):
        say(tenant_id, "t1", str(user.pk), "user", f"message {i}")

    page = api_client.get("/api/memory/threads/t1/messages?limit=2&offset=1").json()
    assert page["count"] == 3
    assert [m["parts"][0]["text"] for m in page["results"]] == ["message 1", "message 2"]
    assert page["results"][0]["threadId"] == "t1"

    patched = api_client.patch("/api/memory/threads/t1", {"title": "Paris"}, format="json")
    assert patched.json()["title"] == "Paris"
    assert [t["id"] for t in api_client.get("/api/memory/threads").json()["results"]] == ["t1"]

    assert api_client.delete("/api/memory/threads/t1").status_code == 204
    assert not Message.objects.exists()
    assert not MessageEmbedding.objects.exists()
    assert api_client.get("/api/memory/threads/t1").status_code == 404


def test_bad_input_gets_field_errors(api_client):
    response = api_client.post("/api/memory/threads", {"title": 5, "metadata": "no"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "metadata" in response.json()["details"]
    duplicate = [
        api_client.post("/api/memory/threads", {"threadId": "same"}, format="json") for _ in range(2)
    ]
    assert [r.status_code for r in duplicate] == [201, 409]


def test_working_memory_over_the_api_validates_against_the_stored_schema(api_client, user):
    from core.tenancy import tenant_for_user
    from memory.services import working_memory_update

    api_client.post("/api/memory/threads", {"threadId": "t1"}, format="json")
    cfg = config(working_memory={"schema": {"type": "object", "properties": {"age": {"type": "integer"}}}})
    working_memory_update(
        tenant_id=tenant_for_user(user).pk,
        thread_id="t1",
        resource_id=str(user.pk),
        config=cfg,
        content={"age": 30},
    )

    bad = api_client.post(
        "/api/memory/threads/t1/working-memory", {"workingMemory": {"age": "old"}}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == {"age": ["'old' is not of type 'integer'"]}
    good = api_client.post(
        "/api/memory/threads/t1/working-memory", {"workingMemory": {"age": 31}}, format="json"
    )
    assert good.status_code == 200
    fetched = api_client.get("/api/memory/threads/t1/working-memory").json()
    assert (fetched["format"], fetched["workingMemory"]) == ("json", {"age": 31})
    via_alias = api_client.post(
        "/api/memory/threads/t1/working-memory", {"content": {"age": 32}}, format="json"
    )
    assert via_alias.json()["workingMemory"] == {"age": 32}, via_alias.json()
    empty = api_client.post("/api/memory/threads/t1/working-memory", {"scope": "thread"}, format="json")
    assert empty.status_code == 400
    assert "workingMemory" in empty.json()["details"]


def test_tenant_admins_may_act_for_another_resource_others_may_not(api_client, user, tenant):
    from core.models import Membership

    other = new_user(tenant=tenant)
    response = api_client.get(f"/api/memory/threads?resourceId={other.pk}")
    assert response.status_code == 404
    user.is_staff = True  # staff act across tenants in the Django admin only, not through the API
    user.save()
    assert client_for(user).get(f"/api/memory/threads?resourceId={other.pk}").status_code == 404
    Membership.objects.filter(user=user).update(role=Membership.Role.ADMIN)
    client_for(user).post("/api/memory/threads", {"threadId": "x", "resourceId": "customer-9"}, format="json")
    assert Thread.objects.get(id="x").resource_id == "customer-9"
    assert client_for(user).get("/api/memory/threads/x").status_code == 404  # not without naming the resource
    assert client_for(user).get("/api/memory/threads/x?resourceId=customer-9").status_code == 200


def test_isolation_matrix_every_route_refuses_other_owners_and_tenants(scripted_embedder):
    tenants = [new_tenant(), new_tenant()]
    users = [new_user(tenant=t) for t in tenants for _ in range(2)]
    for user in users:
        c = client_for(user)
        assert c.post("/api/memory/threads", {"threadId": f"t-{user.pk}"}, format="json").status_code == 201
        tenant_id = Thread.objects.get(id=f"t-{user.pk}").tenant_id
        say(tenant_id, f"t-{user.pk}", str(user.pk), "user", f"secret of {user.pk}")

    for me in users:
        c = client_for(me)
        for owner in users:
            if owner == me:
                continue
            tid = f"t-{owner.pk}"
            checks = [
                c.get(f"/api/memory/threads/{tid}"),
                c.patch(f"/api/memory/threads/{tid}", {"title": "x"}, format="json"),
                c.get(f"/api/memory/threads/{tid}/messages"),
                c.get(f"/api/memory/threads/{tid}/working-memory"),
                c.post(f"/api/memory/threads/{tid}/working-memory", {"workingMemory": "x"}, format="json"),
                c.get(f"/api/memory/search?searchQuery=secret&threadId={tid}"),
                c.delete(f"/api/memory/threads/{tid}"),
            ]
            assert [r.status_code for r in checks] == [404] * len(checks), (me.pk, owner.pk)
            same_tenant = owner.membership.tenant_id == me.membership.tenant_id
            taken = c.post("/api/memory/threads", {"threadId": tid}, format="json")
            # An id taken in the caller's tenant: a 409 that says nothing about the thread; in
            # another tenant the id is free, so the other tenant's use of it is not revealed.
            assert taken.status_code == (409 if same_tenant else 201), (me.pk, owner.pk)
            if same_tenant:
                assert taken.json()["details"] == {"threadId": ["already exists"]}
            else:
                c.delete(f"/api/memory/threads/{tid}")
            assert c.delete(f"/api/memory/resources/{owner.pk}").status_code == 404
        listed = c.get("/api/memory/threads").json()["results"]
        assert [t["id"] for t in listed] == [f"t-{me.pk}"]
        found = c.get("/api/memory/search?searchQuery=secret&topK=10").json()["results"]
        assert [r["text"] for r in found] == [f"secret of {me.pk}"]
    assert Thread.objects.count() == 4
    assert Message.objects.count() == 4


def test_deleting_your_resource_data(scripted_embedder, api_client, user):
    api_client.post("/api/memory/threads", {"threadId": "a"}, format="json")
    say(Thread.objects.get(id="a").tenant_id, "a", str(user.pk), "user", "hello")
    response = api_client.delete(f"/api/memory/resources/{user.pk}")
    assert response.json() == {"deletedThreads": 1}
    assert not MessageEmbedding.objects.exists()
