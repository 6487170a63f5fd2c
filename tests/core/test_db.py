from __future__ import annotations

import pytest
from django.db import connection

from core.db import fast_commit


def _synchronous_commit() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_fast_commit_relaxes_only_its_own_transaction(settings):
    settings.DB_FAST_COMMIT = True
    with fast_commit():
        assert _synchronous_commit() == "off"
        with fast_commit():  # nested: joins the outer transaction, no savepoint
            assert _synchronous_commit() == "off"
    assert _synchronous_commit() == "on"


@pytest.mark.django_db(transaction=True)
def test_fast_commit_can_be_switched_off(settings):
    settings.DB_FAST_COMMIT = False
    with fast_commit():
        assert _synchronous_commit() == "on"
