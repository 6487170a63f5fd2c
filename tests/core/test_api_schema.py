"""The OpenAPI schema is complete: generated with no warning, unique operation ids, bodies described."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from django.core.management import call_command

BODYLESS_POSTS = (
    "_teardown_create",
    "_cancel_create",
    "ws_tickets_create",
)  # POSTs that take no input at all


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("schema") / "schema.yaml"
    # --fail-on-warn: any warning or error of the generator (a view it cannot describe, an
    # operationId collision, an enum naming clash, an unresolved type hint) fails here.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_the_schema_generates_without_warnings_and_describes_every_api_view(schema):
    paths = set(schema["paths"])
    assert len(operations(schema)) >= 35
    for pattern in ("/api/runs/{run_id}", "/api/memory/threads", "/api/storage/workspaces/{id}/"):
        assert pattern in paths


def test_operation_ids_are_unique(schema):
    ids = [op["operationId"] for _, _, op in operations(schema)]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_every_operation_has_request_and_response_schemas(schema):
    missing = []
    for method, path, op in operations(schema):
        success = {code: r for code, r in op["responses"].items() if code.startswith("2")}
        if not success:
            missing.append(f"{method} {path}: no success response")
        for code, response in success.items():
            if code != "204" and not response.get("content"):
                missing.append(f"{method} {path}: {code} has no body schema")
        takes_body = method in ("PUT", "PATCH") or (
            method == "POST" and not op["operationId"].endswith(BODYLESS_POSTS)
        )
        if takes_body and not op.get("requestBody"):
            missing.append(f"{method} {path}: no request body schema")
        for code in ("401", "404"):
            if code not in op["responses"]:
                missing.append(f"{method} {path}: {code} (the error shape) not described")
    assert missing == []


def test_errors_are_described_as_the_one_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "details"}
    ref = "#/components/schemas/Error"
    for method, path, op in operations(schema):
        assert op["responses"]["404"]["content"]["application/json"]["schema"]["$ref"] == ref, (method, path)
        if method == "POST":
            assert op["responses"]["415"]["content"]["application/json"]["schema"]["$ref"] == ref, (
                method,
                path,
            )
