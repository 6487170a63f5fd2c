"""A run's storage workspace: large step outputs and the files a step writes (a report).

Where object storage is configured (S3_ENDPOINT_URL or S3_ACCESS_KEY_ID), a run gets a
storage_kit workspace the first time it needs one (a prefix `wf-<run id>/` of
STORAGE_WORKSPACE_BUCKET, kept WORKFLOW_RETENTION_DAYS, at most STORAGE_MAX_TTL_S). A step
output larger than WORKFLOW_MAX_STEP_BYTES is written there and the journal keeps a
reference in its place:

    {"$artifact": {"workspace": "wf-…", "workspaceId": 7, "bucket": "…", "key": "…",
                   "bytes": 1234567, "sha256": "…", "contentType": "application/json"}}

Reading the run (REST, admin) shows the reference; a step that receives it as input gets the
stored value back (`resolve`). Without storage, such an output fails the step
(`output_too_large`) as before.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction

from core.access import Actor
from workflows.models import WorkflowRun

REF = "$artifact"


def storage_configured() -> bool:
    return bool(settings.S3_ENDPOINT_URL or settings.S3_ACCESS_KEY_ID)


def is_ref(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(REF), dict)


def _workspace(run_id: uuid.UUID) -> Any:
    """The run's workspace row, created on first use (one per run, under the run's row lock)."""
    from storage_kit.models import Lifecycle, Workspace
    from storage_kit.services.workspaces import workspace_create

    with transaction.atomic():
        run = WorkflowRun.objects.select_for_update().get(pk=run_id)
        if run.workspace_id is not None:
            row = Workspace.objects.filter(pk=run.workspace_id).exclude(status=Lifecycle.TORN_DOWN).first()
            if row is not None:
                return row
        ttl = min(int(settings.WORKFLOW_RETENTION_DAYS or 30) * 86400, int(settings.STORAGE_MAX_TTL_S))
        actor = Actor(tenant_id=run.tenant_id, user_id=run.owner_id, is_tenant_admin=False)
        handle = workspace_create(actor=actor, name=f"wf-{run.pk.hex}", ttl_s=ttl, shared_bucket=True)
        WorkflowRun.objects.filter(pk=run.pk).update(workspace_id=handle.id)
        return Workspace.objects.get(pk=handle.id)


def _key(path: str, name: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._/-]+", "_", path.replace(":", "-"))
    return f"{safe}/{name}"


def write(
    *, run_id: uuid.UUID, path: str, name: str, body: bytes, content_type: str = "application/octet-stream"
) -> dict[str, Any]:
    """Store `body` in the run's workspace under the step's path; returns the reference."""
    from storage_kit.backend import admin_store

    workspace = _workspace(run_id)
    key = f"{workspace.prefix}{_key(path, name)}"
    info = admin_store().object_put(bucket=workspace.bucket, key=key, body=body, content_type=content_type)
    return {
        REF: {
            "workspace": workspace.name,
            "workspaceId": workspace.pk,
            "bucket": workspace.bucket,
            "key": key,
            "versionId": getattr(info, "version_id", "") or "",
            "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "contentType": content_type,
        }
    }


def read(ref: dict[str, Any]) -> bytes:
    from storage_kit.backend import admin_store

    where = ref[REF]
    body, _ = admin_store().object_get(
        bucket=where["bucket"], key=where["key"], version_id=where.get("versionId", "")
    )
    return body


def output_store(*, run_id: uuid.UUID, path: str, output: Any) -> dict[str, Any]:
    body = json.dumps(output, separators=(",", ":"), ensure_ascii=False).encode()
    return write(run_id=run_id, path=path, name="output.json", body=body, content_type="application/json")


def resolve(value: Any) -> Any:
    """A step's input with every reference to a stored output replaced by the output itself."""
    if is_ref(value):
        if value[REF].get("contentType") == "application/json":
            return json.loads(read(value))
        return value
    if isinstance(value, dict):
        return {k: resolve(v) for k, v in value.items()} if has_ref(value) else value
    if isinstance(value, list):
        return [resolve(v) for v in value] if has_ref(value) else value
    return value


def has_ref(value: Any) -> bool:
    if is_ref(value):
        return True
    if isinstance(value, dict):
        return any(has_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(has_ref(v) for v in value)
    return False
