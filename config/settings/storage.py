"""S3-compatible object storage for storage_kit."""

from __future__ import annotations

from config.env import env

S3_ENDPOINT_URL = env.str("S3_ENDPOINT_URL", default="")
S3_ACCESS_KEY_ID = env.str("S3_ACCESS_KEY_ID", default="")
S3_SECRET_ACCESS_KEY = env.str("S3_SECRET_ACCESS_KEY", default="")
S3_REGION = env.str("S3_REGION", default="us-east-1")
# "iam_user" (a per-scope IAM user and key, revoked at teardown) or "sts" (AssumeRole
# with an inline session policy).
STORAGE_CREDENTIALS_STRATEGY = env.str("STORAGE_CREDENTIALS_STRATEGY", default="iam_user")
STORAGE_STS_ROLE_ARN = env.str("STORAGE_STS_ROLE_ARN", default="")
STORAGE_DEFAULT_TTL_S = env.int("STORAGE_DEFAULT_TTL_S", default=3600)
STORAGE_MAX_FORKS = env.int("STORAGE_MAX_FORKS", default=50)
WEBHOOK_SIGNING_SECRET = env.str("WEBHOOK_SIGNING_SECRET", default="")
