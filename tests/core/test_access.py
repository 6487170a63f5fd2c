"""The owner model: members reach their own objects, tenant admins their tenant's."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from core.access import Actor, actor_for_user, owned, visible
from core.errors import NotAuthenticated
from core.models import Membership
from tests.factories import TenantFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_actor_for_a_member_and_a_tenant_admin(tenant: Any) -> None:
    member: Any = UserFactory(tenant=tenant)
    admin: Any = UserFactory(tenant=tenant, tenant__role=Membership.Role.ADMIN)

    assert actor_for_user(member) == Actor(tenant_id=tenant.pk, user_id=member.pk, is_tenant_admin=False)
    assert actor_for_user(admin).is_tenant_admin


def test_anonymous_is_not_an_actor() -> None:
    with pytest.raises(NotAuthenticated):
        actor_for_user(AnonymousUser())


def test_owned_and_visible_filter_by_tenant_and_owner(tenant: Any) -> None:
    # Memberships are objects with a tenant and a user: a stand-in for any owned row.
    me: Any = UserFactory(tenant=tenant)
    colleague: Any = UserFactory(tenant=tenant)
    stranger: Any = UserFactory(tenant=TenantFactory())
    rows = Membership.objects.all()
    member = Actor(tenant_id=tenant.pk, user_id=me.pk)
    admin = Actor(tenant_id=tenant.pk, user_id=colleague.pk, is_tenant_admin=True)

    assert {m.user_id for m in owned(rows, member, owner_field="user_id")} == {me.pk}
    assert {m.user_id for m in owned(rows, admin, owner_field="user_id")} == {me.pk, colleague.pk}
    assert stranger.pk not in {m.user_id for m in visible(rows, admin, owner_field="user_id")}
    assert not owned(rows, Actor(tenant_id=tenant.pk, user_id=None), owner_field="user_id").exists()
    assert Actor.system(tenant_id=tenant.pk).may_manage(me.pk)
    assert member.may_manage(me.pk)
    assert not member.may_manage(colleague.pk)
