"""Thread ids are the client's, unique per tenant: no answer reveals another tenant's ids,
and concurrent creates of one id have one winner and clean conflicts, never a 500."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import close_old_connections, connection, transaction
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.models import Membership
from memory.models import Thread
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user: Any) -> APIClient:
    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_an_id_another_tenant_uses_is_free_in_this_tenant(api_client, user):
    stranger = client_for(UserFactory(tenant=TenantFactory()))
    theirs = stranger.post("/api/memory/threads", {"threadId": "trip", "title": "Their trip"}, format="json")
    assert theirs.status_code == 201

    mine = api_client.post("/api/memory/threads", {"threadId": "trip", "title": "My trip"}, format="json")

    assert mine.status_code == 201, mine.json()
    assert mine.json()["title"] == "My trip"
    assert api_client.get("/api/memory/threads/trip").json()["title"] == "My trip"
    assert stranger.get("/api/memory/threads/trip").json()["title"] == "Their trip"
    assert Thread.objects.filter(id="trip").count() == 2


def test_an_id_another_member_uses_conflicts_without_revealing_the_thread(api_client, tenant):
    colleague = client_for(UserFactory(tenant=tenant))
    colleague.post(
        "/api/memory/threads", {"threadId": "plan", "title": "Colleague's secret plan"}, format="json"
    )

    taken = api_client.post("/api/memory/threads", {"threadId": "plan"}, format="json")
    own_again = colleague.post("/api/memory/threads", {"threadId": "plan"}, format="json")

    assert taken.status_code == own_again.status_code == 409
    assert taken.json() == own_again.json()  # the same answer whoever owns the thread
    assert "secret" not in taken.content.decode()
    assert api_client.get("/api/memory/threads/plan").status_code == 404


def test_concurrent_creates_of_one_id_have_one_winner_and_clean_conflicts(user):
    def create(_: int) -> int:
        close_old_connections()
        try:
            return (
                client_for(user).post("/api/memory/threads", {"threadId": "race"}, format="json").status_code
            )
        finally:
            close_old_connections()

    client_for(user)  # the token exists before the threads start
    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(create, range(16)))

    assert sorted(codes) == [201] + [409] * 15, codes
    assert Thread.objects.filter(id="race").count() == 1


def test_a_create_racing_an_uncommitted_create_of_the_same_id_answers_409(user, tenant):
    """The request checks, finds nothing (the other insert is not committed), and its insert
    then waits on the unique index until the other commits: a conflict, never a 500."""
    client = client_for(user)
    inserted, release = threading.Event(), threading.Event()
    answers: dict[str, Any] = {}

    def hold() -> None:
        try:
            with transaction.atomic():
                Thread.objects.create(id="race", tenant=tenant, resource_id=str(user.pk), owner=user)
                inserted.set()
                release.wait(30)
        finally:
            close_old_connections()

    def post() -> None:
        try:
            answers["response"] = client.post("/api/memory/threads", {"threadId": "race"}, format="json")
        finally:
            close_old_connections()

    holder = threading.Thread(target=hold)
    holder.start()
    assert inserted.wait(30)
    poster = threading.Thread(target=post)
    poster.start()
    with connection.cursor() as cursor:  # until the request's insert waits on the other's lock
        for _ in range(3000):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                break
            poster.join(0.01)
    release.set()
    holder.join()
    poster.join()
    assert answers["response"].status_code == 409
    assert answers["response"].json()["code"] == "conflict"


def test_a_tenant_admin_reads_and_changes_a_members_thread(api_client, user, tenant):
    api_client.post("/api/memory/threads", {"threadId": "mine", "title": "Mine"}, format="json")
    admin = client_for(UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN))
    path = f"/api/memory/threads/mine?resourceId={user.pk}"
    assert admin.get(path).json()["title"] == "Mine"
    assert admin.patch(path, {"title": "Renamed"}, format="json").status_code == 200
    assert api_client.get("/api/memory/threads/mine").json()["title"] == "Renamed"
