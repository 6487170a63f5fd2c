"""Property-based fuzzing of every operation in the OpenAPI schema, against the real app in-process.

Schemathesis generates valid (positive) and schema-violating (negative) requests from
the schema itself, so a route added later is fuzzed without touching this file. Two
checks: no 5xx for anything a client sends (`not_a_server_error`), and data the schema
forbids is refused with a 4xx (`negative_data_rejection`); every error is the one error
shape. Bounded (`FUZZ_EXAMPLES` per operation and mode) and deterministic (derandomized),
so a failure reproduces. Path ids are swapped, on some positive cases, for ids of objects
that exist, so the routes behind a found object are fuzzed too.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.storage_kit.conftest import SIGNING_SECRET, MotoServer

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
ERROR_KEYS = {"code", "message", "details"}


def error_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every answer of 400 or more is JSON `{code, message, details}` (never HTML, never empty)."""
    if response.status_code < 400:
        return None
    headers = {name.lower(): value for name, value in response.headers.items()}
    content_type = headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), f"{response.status_code} as {content_type!r}"
    body = json.loads(response.content)
    assert isinstance(body, dict), body
    assert set(body) == ERROR_KEYS, body
    return True


@pytest.fixture
def _connections_kept() -> Iterator[None]:
    """The app is called as WSGI, which closes database connections at each request's end (as
    Django's test client prevents): keep the test's connection, and its transaction, open."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(
    _connections_kept: None, openai_server, make_agent, user, settings, moto_server: MotoServer
) -> dict[str, Any]:
    """Objects the fuzzer may find, the scripted model answering anything, storage on the moto server."""
    from rest_framework.authtoken.models import Token

    from core.access import Actor
    from core.context import RequestContext
    from memory import services as memory
    from storage_kit.services import checkpoints, workspaces
    from tests.fakes.openai_server import ChatReply

    settings.S3_ENDPOINT_URL = moto_server.url
    settings.S3_ACCESS_KEY_ID = moto_server.admin_key
    settings.S3_SECRET_ACCESS_KEY = moto_server.admin_secret
    settings.S3_REGION = "us-east-1"
    settings.STORAGE_CREDENTIALS_STRATEGY = "iam_user"
    settings.WEBHOOK_SIGNING_SECRET = SIGNING_SECRET
    settings.STORAGE_MAX_FORKS = 3
    settings.EMBEDDER = "scripted/embed-test"
    settings.MODEL_MAX_RETRIES = 0
    openai_server.always(ChatReply(text="fuzzed"))

    from agents.runtime import generate

    make_agent(allow_model_override=True)
    tenant_id = user.membership.tenant_id
    run = generate("helper", context=RequestContext(tenant_id=tenant_id, user_id=user.pk), prompt="hi")
    thread = memory.thread_create(tenant_id=tenant_id, resource_id=str(user.pk), thread_id="fuzz-thread")
    document = memory.document_create(tenant_id=tenant_id, title="Doc", text="Some text to find.")
    actor = Actor(tenant_id=tenant_id, user_id=user.pk)
    workspace = workspaces.workspace_create(
        actor=actor, name=f"fuzz-{random.Random(user.pk).randint(0, 10**6)}"
    )
    checkpoint = checkpoints.checkpoint_create(
        actor=actor, bucket=workspace.bucket, name="cp", prefix=workspace.prefix
    )
    token, _ = Token.objects.get_or_create(user=user)
    return {
        "headers": {"Authorization": f"Token {token.key}"},
        "ids": {
            "agent_id": "helper",
            "tool_id": "current_time",
            "run_id": run.run_id,
            "trace_id": run.trace_id,
            "thread_id": thread.id,
            "resource_id": str(user.pk),
            "document_id": document.pk,
            ("workspaces", "id"): workspace.id,
            ("checkpoints", "id"): checkpoint.id,
        },
    }


def api_schema() -> Any:
    """The schema as `/api/schema/` serves it, bound to the WSGI app (requests never leave the process)."""
    from django.core.wsgi import get_wsgi_application
    from drf_spectacular.generators import SchemaGenerator

    raw = json.loads(json.dumps(SchemaGenerator().get_schema(request=None, public=True), default=str))
    for item in raw["paths"].values():
        for operation in item.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:  # bodies fuzzed as JSON; forms: test_api_input.py
                operation["requestBody"]["content"] = {"application/json": content["application/json"]}
    loaded = schemathesis.openapi.from_dict(raw)
    loaded.app = get_wsgi_application()
    loaded.config.generation.update(max_examples=EXAMPLES, deterministic=True)
    return loaded


schema = api_schema()  # at collection: one test per operation, routes added later included


def use_existing_ids(case: Any, ids: dict[Any, Any]) -> None:
    """On about half the positive cases, the path names objects that exist."""
    if not case.path_parameters or case.meta is None or case.meta.generation.mode.is_negative:
        return
    section = case.path.split("/")[3] if case.path.startswith("/api/storage/") else None
    chooser = random.Random(f"{case.method} {case.path} {sorted(case.path_parameters.items())!r}")
    for name in list(case.path_parameters):
        known = ids.get((section, name), ids.get(name))
        if known is not None and chooser.random() < 0.5:
            case.path_parameters[name] = known


@pytest.mark.slow
@schema.parametrize()
# The world is shared by a test's examples on purpose (the objects they may find); each
# operation's test rolls its writes back.
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_request_from_the_schema_gets_a_server_error(case, fuzz_world):
    use_existing_ids(case, fuzz_world["ids"])
    case.call_and_validate(
        headers=fuzz_world["headers"], checks=[not_a_server_error, negative_data_rejection, error_shape]
    )
