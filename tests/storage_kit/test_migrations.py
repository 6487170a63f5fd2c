# mypy: disable-error-code="no-untyped-def,attr-defined,misc"
"""Rows made before owners existed get one where the tenant makes it unambiguous."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import TenantFactory, UserFactory

BEFORE = [("storage_kit", "0001_initial")]
AFTER = [("storage_kit", "0002_owners_and_datasets")]


@pytest.mark.django_db(transaction=True)
def test_owners_backfill():
    solo_tenant, shared_tenant = TenantFactory(), TenantFactory()
    solo = UserFactory(tenant=solo_tenant)
    UserFactory(tenant=shared_tenant)
    UserFactory(tenant=shared_tenant)
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Workspace = old.get_model("storage_kit", "Workspace")
    expires = timezone.now() + timedelta(hours=1)
    for tenant in (solo_tenant, shared_tenant):
        Workspace.objects.create(
            tenant_id=tenant.pk, name=f"old-{tenant.pk}", bucket=f"old-{tenant.pk}", expires_at=expires
        )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    from storage_kit.models import Workspace as Current

    assert Current.objects.get(tenant=solo_tenant).owner_id == solo.pk
    assert Current.objects.get(tenant=shared_tenant).owner_id is None
