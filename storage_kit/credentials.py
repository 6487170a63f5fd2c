"""Scoped credentials: one interface, two strategies chosen by STORAGE_CREDENTIALS_STRATEGY.

`iam_user`: a per-scope IAM user with an inline policy and its own key, deleted at
teardown (works on stores without session policies). `sts`: AssumeRole with an
inline session policy limited to the scope (AWS, MinIO); such keys cannot be
revoked early and expire on their own, so teardown only forgets them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from core.crypto import decrypt, encrypt
from observability.redaction import register_secret
from storage_kit.backend import AccessKey, Credentials, ObjectStore
from storage_kit.models import Credential, Role

_READ = ["s3:GetObject", "s3:GetObjectVersion"]
_WRITE = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Grant:
    """Access to one (bucket, prefix); `write` adds put and delete."""

    bucket: str
    prefix: str
    write: bool


def scope_policy(grants: list[Grant]) -> dict[str, Any]:
    """An IAM policy allowing exactly the grants (listing limited to the prefix by condition)."""
    statements: list[dict[str, Any]] = []
    for n, grant in enumerate(grants):
        objects = f"arn:aws:s3:::{grant.bucket}/{grant.prefix}*"
        listing: dict[str, Any] = {
            "Sid": f"List{n}",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:ListBucketVersions"],
            "Resource": f"arn:aws:s3:::{grant.bucket}",
        }
        if grant.prefix:
            listing["Condition"] = {"StringLike": {"s3:prefix": [f"{grant.prefix}*"]}}
        statements.append(listing)
        actions = _READ + (_WRITE if grant.write else [])
        statements.append({"Sid": f"Objects{n}", "Effect": "Allow", "Action": actions, "Resource": objects})
    return {"Version": "2012-10-17", "Statement": statements}


class CredentialStrategy(Protocol):
    name: str

    def mint(self, *, store: ObjectStore, principal: str, policy: dict[str, Any]) -> AccessKey: ...
    def revoke(self, *, store: ObjectStore, principal: str) -> None: ...


class IamUserStrategy:
    name = "iam_user"

    def mint(self, *, store: ObjectStore, principal: str, policy: dict[str, Any]) -> AccessKey:
        return store.iam_user_create(name=principal, path=settings.STORAGE_IAM_PATH, policy=policy)

    def revoke(self, *, store: ObjectStore, principal: str) -> None:
        store.iam_user_delete(name=principal)


class StsStrategy:
    name = "sts"

    def mint(self, *, store: ObjectStore, principal: str, policy: dict[str, Any]) -> AccessKey:
        role_arn = settings.STORAGE_STS_ROLE_ARN
        if not role_arn:
            raise ImproperlyConfigured(
                "Missing required environment variable STORAGE_STS_ROLE_ARN for STORAGE_CREDENTIALS_STRATEGY=sts."
            )
        return store.sts_assume_role(
            role_arn=role_arn,
            session_name=principal[:64],
            policy=policy,
            duration_s=settings.STORAGE_STS_DURATION_S,
        )

    def revoke(self, *, store: ObjectStore, principal: str) -> None:
        """Session keys expire by themselves (STORAGE_STS_DURATION_S); nothing to call."""


STRATEGIES: dict[str, CredentialStrategy] = {"iam_user": IamUserStrategy(), "sts": StsStrategy()}


def strategy_get(name: str | None = None) -> CredentialStrategy:
    name = name or settings.STORAGE_CREDENTIALS_STRATEGY
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"STORAGE_CREDENTIALS_STRATEGY must be one of {sorted(STRATEGIES)}, not {name!r}."
        ) from None


def principal_name(scope: str) -> str:
    """The IAM user (or STS session) name of a scope: at most 64 characters, and distinct per
    scope; a longer name keeps its start and ends with a digest of the whole."""
    name = f"{settings.STORAGE_NAME_PREFIX}-{scope}"
    if len(name) <= 64:
        return name
    return f"{name[:55]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def credential_mint(
    *,
    store: ObjectStore,
    tenant_id: int,
    scope: str,
    role: str,
    grants: list[Grant],
    owner_id: int | None = None,
) -> tuple[Credential, Credentials]:
    """Mint keys for `grants` (read-only when role is ReadOnly), store them encrypted, register the secret."""
    if role == Role.READ_ONLY:
        grants = [Grant(bucket=g.bucket, prefix=g.prefix, write=False) for g in grants]
    strategy = strategy_get()
    key = strategy.mint(store=store, principal=principal_name(scope), policy=scope_policy(grants))
    creds = key.credentials
    register_secret(creds.secret_access_key)
    register_secret(creds.session_token)
    row = Credential.objects.create(
        tenant_id=tenant_id,
        owner_id=owner_id,
        strategy=strategy.name,
        role=role,
        principal=key.principal,
        access_key_id=creds.access_key_id,
        secret_encrypted=encrypt(creds.secret_access_key),
        session_token_encrypted=encrypt(creds.session_token) if creds.session_token else "",
        expires_at=creds.expires_at,
    )
    return row, creds


def credential_load(credential: Credential) -> Credentials:
    secret = decrypt(credential.secret_encrypted)
    token = decrypt(credential.session_token_encrypted) if credential.session_token_encrypted else ""
    register_secret(secret)
    register_secret(token)
    return Credentials(
        access_key_id=credential.access_key_id,
        secret_access_key=secret,
        session_token=token,
        expires_at=credential.expires_at,
    )


def credential_revoke(*, store: ObjectStore, credential: Credential) -> None:
    """Revoke the key at the store, then mark the row; raises when the store refuses."""
    if credential.revoked_at is not None:
        return
    strategy_get(credential.strategy).revoke(store=store, principal=credential.principal)
    credential.revoked_at = timezone.now()
    credential.save(update_fields=["revoked_at"])
