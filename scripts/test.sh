#!/usr/bin/env bash
# Run the test suite against the real PostgreSQL (embedded unless DATABASE_URL is set)
# and Redis. Extra arguments go to pytest. Exit 5 (no tests collected) is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export DJANGO_SETTINGS_MODULE=config.settings.test
for hook in scripts/test-setup.d/*.sh; do
  [ -e "$hook" ] || continue
  bash "$hook" || { echo "test setup step $hook failed" >&2; exit 1; }
done
"$VENV/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" = 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit "$rc"
