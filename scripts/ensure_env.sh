#!/usr/bin/env bash
# First start on a fresh clone: write .env for local development (DEBUG on, a generated
# SECRET_KEY and WEBHOOK_SIGNING_SECRET), so that every command run by hand
# (`.venv/bin/python manage.py ...`) uses the same settings as `make run`, and storage
# coordinations can sign their webhooks at once. An existing .env is never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -e .env ] && exit 0
generate() { "${PYTHON:-python3}" -c 'import secrets; print(secrets.token_urlsafe(50))'; }
key=$(generate)
webhook_secret=$(generate)
umask 077
cat > .env <<ENV
# Written by \`make run\` on first start, for local development; edit freely (see .env.example).
DEBUG=true
SECRET_KEY=$key
# The HMAC key storage coordination webhooks are signed with (X-StorageKit-Signature).
WEBHOOK_SIGNING_SECRET=$webhook_secret
ENV
echo "==> wrote .env (DEBUG=true, a generated SECRET_KEY and WEBHOOK_SIGNING_SECRET)"
