# mypy: disable-error-code="union-attr,misc"
from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from storage_kit.credentials import Grant, scope_policy
from storage_kit.models import Credential, Workspace
from storage_kit.services.workspaces import workspace_create, workspace_teardown
from tests.storage_kit.conftest import unique

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


def test_scope_policy_limits_objects_and_listing_to_the_prefix():
    policy = scope_policy(
        [Grant(bucket="src", prefix="", write=False), Grant(bucket="forks", prefix="f1/", write=True)]
    )
    read, write = policy["Statement"][1], policy["Statement"][3]
    assert read["Resource"] == "arn:aws:s3:::src/*"
    assert "s3:PutObject" not in read["Action"]
    assert write["Resource"] == "arn:aws:s3:::forks/f1/*"
    assert "s3:PutObject" in write["Action"]
    assert policy["Statement"][2]["Condition"] == {"StringLike": {"s3:prefix": ["f1/*"]}}
    assert "Condition" not in policy["Statement"][0]


def test_sts_strategy_mints_session_keys_with_a_session_policy(s3_settings, tenant, actor, settings):
    iam = s3_settings.client("iam")
    role = iam.create_role(RoleName=unique("kit-role"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    settings.STORAGE_CREDENTIALS_STRATEGY = "sts"
    settings.STORAGE_STS_ROLE_ARN = role["Arn"]
    handle = workspace_create(actor=actor, name=unique("sts"))
    creds = handle.credentials
    assert creds.session_token
    assert creds.expires_at is not None
    row = Credential.objects.get(pk=Workspace.objects.get(pk=handle.id).credential_id)
    assert row.strategy == "sts"
    assert row.session_token_encrypted
    assert creds.session_token not in row.session_token_encrypted
    handle.objects.put("a.txt", "through the session key")
    assert handle.objects.get("a.txt") == b"through the session key"
    assert workspace_teardown(actor=actor, workspace_id=handle.id).ok


def test_sts_without_role_names_the_variable(s3_settings, tenant, actor, settings):
    settings.STORAGE_CREDENTIALS_STRATEGY = "sts"
    settings.STORAGE_STS_ROLE_ARN = ""
    with pytest.raises(ImproperlyConfigured, match="STORAGE_STS_ROLE_ARN"):
        workspace_create(actor=actor, name=unique("norole"))
