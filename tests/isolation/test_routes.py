"""The owner model for every route (docs/security.md).

Every request is sent as another member of the owner's tenant, as a member of another
tenant and anonymously: nothing of the owner's may come back (404 where an object is
named, 401 anonymous), and the owner must still reach the object afterwards.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.models import Membership
from tests.factories import TenantFactory, UserFactory
from tests.isolation.entries import OWNER_READS, ROUTES, SECRET, TENANT_MARK, NoTenantData, Probe
from tests.isolation.world import World, body_of, client_for, leaks, send_call


def _probe(world: World, route: str, method: str, probe: Probe) -> list[str]:
    """The failures of one probe, sent as a fresh colleague, a fresh stranger and anonymously."""
    failures = []
    where = f"{method.upper()} {route} ({world.fill(probe.call.path)})"
    member, stranger = world.newcomers()
    for who, user, same_tenant in (("another member", member, True), ("another tenant", stranger, False)):
        response = send_call(client_for(user), world, probe.call)
        expected = probe.expected(same_tenant=same_tenant)
        if response.status_code not in expected:
            failures.append(f"{where} as {who}: {response.status_code}, expected {sorted(expected)}")
        if leaked := leaks(body_of(response), tenant_mark=not same_tenant, world=world):
            failures.append(f"{where} as {who} leaked {leaked}")
    if isinstance(probe, NoTenantData):
        return failures
    response = send_call(client_for(None), world, probe.call)
    refused = {401, 403} if route.startswith("api/") else {302}
    if response.status_code not in refused:
        failures.append(f"{where} anonymous: {response.status_code}, expected {sorted(refused)}")
    if leaks(body_of(response), tenant_mark=True, world=world):
        failures.append(f"{where} anonymous leaked")
    return failures


@pytest.mark.django_db(transaction=True)
def test_no_route_reaches_another_owners_object(world: World, openai_server: Any):
    seen_before = len(openai_server.chat_requests)
    failures = [
        failure
        for route, methods in ROUTES.items()
        for method, probes in methods.items()
        for probe in probes
        for failure in _probe(world, route, method, probe)
    ]
    # Nothing of the owner's reached the model on anyone else's behalf.
    for request in openai_server.chat_requests[seen_before:]:
        if SECRET in str(request.body):
            failures.append(f"the owner's secret reached the model in another caller's run: {request.body}")
    # The owner still reaches everything, unchanged.
    owner = client_for(world.owner)
    for path in OWNER_READS:
        response = owner.get(world.fill(path))
        if response.status_code != 200:
            failures.append(f"the owner lost {path}: {response.status_code}")
    assert owner.get(f"/api/memory/threads/{world.ids['thread']}").json()["title"] == SECRET
    assert SECRET in owner.get(f"/api/memory/threads/{world.ids['thread']}/working-memory").content.decode()
    assert not failures, "\n".join(failures)


@pytest.mark.django_db(transaction=True)
def test_the_django_admin_is_for_staff_only(world: World, client: Any):
    for user in (world.owner, world.colleague, world.stranger):
        client.force_login(user)
        response = client.get("/admin/memory/thread/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


@pytest.mark.django_db(transaction=True)
def test_tenant_wide_routes_show_the_tenant_to_a_tenant_admin_and_nothing_else(world: World):
    admin = client_for(UserFactory(tenant=TenantFactory(), tenant__role=Membership.Role.ADMIN))
    for path in (
        "/api/agents",
        "/api/models",
        "/api/memory/knowledge/documents",
        "/api/storage/datasets/",
        "/",
    ):
        body = body_of(admin.get(path))
        assert TENANT_MARK not in body, path
        assert SECRET not in body, path
