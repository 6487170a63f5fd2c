# mypy: disable-error-code="union-attr"
from __future__ import annotations

from django.urls import reverse

from storage_kit.models import Fork, Lifecycle, Workspace
from storage_kit.services.checkpoints import checkpoint_create
from storage_kit.services.workspaces import workspace_create
from tests.storage_kit.conftest import unique


def test_admin_teardown_and_restore_actions(s3_settings, tenant, actor, admin_client, source_bucket):
    handle = workspace_create(actor=actor, name=unique("adm"))
    response = admin_client.post(
        reverse("admin:storage_kit_workspace_changelist"),
        {"action": "teardown", "_selected_action": [handle.id]},
    )
    assert response.status_code == 302
    assert Workspace.objects.get(pk=handle.id).status == Lifecycle.TORN_DOWN
    info = checkpoint_create(actor=actor, bucket=source_bucket, name="adm")
    admin_client.post(
        reverse("admin:storage_kit_checkpoint_changelist"),
        {"action": "restore", "_selected_action": [info.id]},
    )
    fork = Fork.objects.get(checkpoint_id=info.id)
    assert fork.status == Lifecycle.ACTIVE
    admin_client.post(
        reverse("admin:storage_kit_fork_changelist"), {"action": "teardown", "_selected_action": [fork.pk]}
    )
    fork.refresh_from_db()
    assert fork.status == Lifecycle.TORN_DOWN
    for name in ("workspace", "fork", "checkpoint", "webhookdelivery", "coordination"):
        assert admin_client.get(reverse(f"admin:storage_kit_{name}_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:storage_kit_workspace_change", args=[handle.id])).content.decode()
    assert handle.credentials.secret_access_key not in page


def test_admin_registers_datasets_and_refuses_kit_buckets(s3_settings, tenant, actor, admin_client, settings):
    from storage_kit.models import Dataset
    from storage_kit.services.checkpoints import checkpoint_list

    add = reverse("admin:storage_kit_dataset_add")
    refused = admin_client.post(
        add,
        {"tenant": tenant.pk, "name": "shared", "bucket": settings.STORAGE_WORKSPACE_BUCKET, "prefix": ""},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert (
        "Managed by the storage kit" in refused.content.decode()
        or "cannot be registered" in refused.content.decode()
    )
    bucket = unique("reg")
    s3 = s3_settings.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    created = admin_client.post(add, {"tenant": tenant.pk, "name": "corpus", "bucket": bucket, "prefix": ""})
    assert created.status_code == 302
    dataset = Dataset.objects.get()
    assert (dataset.tenant_id, dataset.bucket, dataset.owner_id) == (tenant.pk, bucket, None)
    # Every member of the tenant may now checkpoint it.
    checkpoint_create(actor=actor, bucket=bucket, name="first")
    assert [c.name for c in checkpoint_list(actor=actor, bucket=bucket).items] == ["first"]
