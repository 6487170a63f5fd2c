"""Transactional tests end with a flush, and Django then emits `post_migrate` so that apps
recreate their rows: content types, permissions, the registered tools and workflows. That
signal cost 1.5 to 2 s per transactional test here, most of a teardown.

This plugin runs the flush and the signal once per session, copies every table the signal
filled into a schema of its own, and after each later flush restores those rows with one
INSERT per table instead of emitting the signal again. The rows are the same rows the
signal made, with the same ids, so cached content types stay right; the in-process caches
the signal's saves would have cleared are cleared here too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.commands import flush as flush_command
from django.db import connections, transaction

SCHEMA = "test_post_migrate"


def _tables(database: str) -> list[str]:
    connection = connections[database]
    with connection.cursor() as cursor:
        names = connection.introspection.django_table_names(only_existing=True, include_views=False)
        filled = []
        for name in sorted(names):
            cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")')  # noqa: S608 - Django's own table names
            if cursor.fetchone()[0]:
                filled.append(name)
    return filled


def snapshot_take(database: str = "default") -> list[str]:
    """Flush, emit post_migrate once, and copy what it filled. Returns the tables copied."""
    call_command("flush", verbosity=0, interactive=False, database=database, reset_sequences=False)
    tables = _tables(database)
    with connections[database].cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        cursor.execute(f"CREATE SCHEMA {SCHEMA}")
        for name in tables:
            cursor.execute(f'CREATE TABLE {SCHEMA}."{name}" AS TABLE public."{name}"')
    _caches_clear()
    return tables


def snapshot_restore(tables: list[str], database: str) -> None:
    """Put back the rows post_migrate made (the foreign keys are deferred to the commit)."""
    with transaction.atomic(using=database), connections[database].cursor() as cursor:
        for name in tables:
            cursor.execute(f'INSERT INTO public."{name}" SELECT * FROM {SCHEMA}."{name}"')  # noqa: S608
    _caches_clear()


def _caches_clear() -> None:
    from django.contrib.contenttypes.models import ContentType

    from agents.runtime.spec import agent_config_changed

    ContentType.objects.clear_cache()
    agent_config_changed()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        tables = snapshot_take()

    def restore(verbosity: int, interactive: bool, database: str, **kwargs: Any) -> None:
        snapshot_restore(tables, database)

    with mock.patch.object(flush_command, "emit_post_migrate_signal", restore):
        yield
