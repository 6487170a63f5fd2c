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
# The longest lifetime a client may ask for a workspace or fork (`ttl_s`); longer is a 400.
STORAGE_MAX_TTL_S = env.int("STORAGE_MAX_TTL_S", default=30 * 24 * 3600)
WEBHOOK_SIGNING_SECRET = env.str("WEBHOOK_SIGNING_SECRET", default="")
# Shared buckets: workspaces in prefix mode and the copy-on-write overlays of forks.
STORAGE_WORKSPACE_BUCKET = env.str("STORAGE_WORKSPACE_BUCKET", default="storage-kit-workspaces")
STORAGE_FORKS_BUCKET = env.str("STORAGE_FORKS_BUCKET", default="storage-kit-forks")
# Objects at or above this size are copied part by part when a fork is materialised.
STORAGE_MULTIPART_THRESHOLD = env.int("STORAGE_MULTIPART_THRESHOLD", default=64 * 1024 * 1024)
STORAGE_PRESIGN_TTL_S = env.int("STORAGE_PRESIGN_TTL_S", default=900)
STORAGE_STS_DURATION_S = env.int("STORAGE_STS_DURATION_S", default=3600)
# IAM paths and name prefixes for the credentials the kit mints (one user per scope).
STORAGE_IAM_PATH = env.str("STORAGE_IAM_PATH", default="/storage-kit/")
STORAGE_NAME_PREFIX = env.str("STORAGE_NAME_PREFIX", default="sk")
STORAGE_SWEEP_EVERY_S = env.int("STORAGE_SWEEP_EVERY_S", default=300)
STORAGE_GC_EVERY_S = env.int("STORAGE_GC_EVERY_S", default=3600)
STORAGE_SQS_POLL_EVERY_S = env.int("STORAGE_SQS_POLL_EVERY_S", default=30)
# Webhook delivery: attempts, exponential backoff base (seconds) and request timeout.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
WEBHOOK_BACKOFF_BASE_S = env.float("WEBHOOK_BACKOFF_BASE_S", default=2.0)
WEBHOOK_TIMEOUT_S = env.float("WEBHOOK_TIMEOUT_S", default=10.0)
WEBHOOK_RETRY_EVERY_S = env.int("WEBHOOK_RETRY_EVERY_S", default=60)
# Webhook targets must resolve to public addresses; this comma-separated list names the
# exceptions: host names, addresses or CIDR networks (e.g. "127.0.0.1,10.0.0.0/8,hooks.internal").
WEBHOOK_ALLOWED_HOSTS: list[str] = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# A CA bundle (PEM file) to verify webhook receivers with; empty: the bundle requests ships.
WEBHOOK_CA_BUNDLE = env.str("WEBHOOK_CA_BUNDLE", default="")
# The longest TTL a workspace or fork may ask for (30 days).
STORAGE_MAX_TTL_S = env.int("STORAGE_MAX_TTL_S", default=30 * 86400)
# IAM and STS endpoints default to S3_ENDPOINT_URL (MinIO serves STS there; moto serves all).
STORAGE_IAM_ENDPOINT_URL = env.str("STORAGE_IAM_ENDPOINT_URL", default="")
STORAGE_STS_ENDPOINT_URL = env.str("STORAGE_STS_ENDPOINT_URL", default="")
# Keys per ListObjectVersions page when taking a checkpoint. S3 caps pages at 1000; a store
# that allows more (moto, some gateways) checkpoints large buckets in fewer round trips.
STORAGE_LIST_PAGE_SIZE = env.int("STORAGE_LIST_PAGE_SIZE", default=1000)
STORAGE_READ_TIMEOUT_S = env.float("STORAGE_READ_TIMEOUT_S", default=30.0)
