"""Fixtures for the real services: PostgreSQL (pytest-django), Redis, and the
scripted OpenAI-compatible server. Per-app fixtures live in tests/<app>/conftest.py."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.db_pool import checked_out
from tests.factories import TenantFactory, UserFactory
from tests.fakes.openai_server import ScriptedOpenAIServer
from tests.flush_snapshot import django_db_setup  # noqa: F401 - restores post_migrate's rows after flushes

SCRIPTED_KEY = "sk-scripted-provider-key-7f3a9c"  # planted: must never appear in any span or message


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test has an id of its own. Schemathesis names each operation's test
    (`test_x[GET /api/agents]`) but leaves all of them the function's id, and pytest-xdist,
    which schedules tests by id, then ran one operation of the fuzz test instead of all: its
    tests get their names as ids, and any other id that repeats stops the run."""
    from _pytest.nodeid import NodeId

    for item in items:
        params = item.name.partition("[")[2].removesuffix("]")
        if params and not item.nodeid.endswith("]"):
            item._id = NodeId.parse(f"{item.nodeid}[{params}]")  # pytest 9 keeps the id there
    counts = Counter(item.nodeid for item in items)
    repeated = {nodeid for nodeid, count in counts.items() if count > 1}
    if repeated:
        raise pytest.UsageError(
            f"tests that share an id (pytest-xdist would run one of each): {sorted(repeated)}"
        )


@pytest.fixture(autouse=True)
def _pool_left_usable() -> Iterator[None]:
    """Fails the test after which most of this process's connection pool is still checked out:
    a thread that kept its connection (ORM work on an executor thread without
    `core.db.db_to_async`), named here rather than by the tests that later time out waiting."""
    yield
    from django.conf import settings

    limit = int(settings.DB_POOL_MAX_SIZE) - 3
    deadline = time.monotonic() + 2.0  # threads that linger a moment (the write-behind) hand theirs back
    while (out := checked_out()) is not None and out > limit:
        if time.monotonic() > deadline:
            pytest.fail(f"{out} of the pool's {settings.DB_POOL_MAX_SIZE} connections are still checked out")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def _openai_server_session() -> Iterator[ScriptedOpenAIServer]:
    server = ScriptedOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(
    _openai_server_session: ScriptedOpenAIServer, settings: Any
) -> Iterator[ScriptedOpenAIServer]:
    """The scripted server, registered as provider `scripted` (models `scripted/<name>`).

    Fails the test if the code under test made a request nobody scripted.
    """
    from agents.providers.catalog import cache_clear

    server = _openai_server_session
    server.reset()
    server.set_models(["gpt-test", "gpt-test-mini"])  # a test's own list never leaks into the next
    cache_clear()  # nor a listing cached from it
    os.environ["SCRIPTED_API_KEY"] = SCRIPTED_KEY
    settings.MODEL_PROVIDERS = {
        **settings.MODEL_PROVIDERS,
        "scripted": {"base_url": server.base_url, "api_key_env": "SCRIPTED_API_KEY"},
        "backup": {"base_url": server.base_url, "api_key_env": "SCRIPTED_API_KEY"},
    }
    yield server
    unexpected = server.unexpected
    server.reset()
    if unexpected:
        pytest.fail(f"unexpected requests to the scripted model server: {unexpected}")


@pytest.fixture
def tenant(db: None) -> Any:
    return TenantFactory()


@pytest.fixture
def user(tenant: Any) -> Any:
    return UserFactory(tenant=tenant)


@pytest.fixture
def api_client(user: Any) -> APIClient:
    """An API client authenticated with the user's token."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
