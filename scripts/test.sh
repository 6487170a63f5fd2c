#!/usr/bin/env bash
# Run the test suite against the real PostgreSQL (embedded unless DATABASE_URL is set)
# and Redis. Extra arguments go to pytest. Exit 5 (no tests collected) is a failure.
# The suite runs on TEST_WORKERS pytest-xdist workers (default 2; 0 runs it in this process),
# a file to a worker; each worker has its own test database and its own Redis database
# (config/settings/test.py), and most tests wait on processes and sockets, not on the CPU.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
export DJANGO_SETTINGS_MODULE=config.settings.test
for hook in scripts/test-setup.d/*.sh; do
  [ -e "$hook" ] || continue
  bash "$hook" || { echo "test setup step $hook failed" >&2; exit 1; }
done
"$VENV/bin/python" -m pytest -n "${TEST_WORKERS:-2}" --dist loadfile "$@"
rc=$?
if [ "$rc" = 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi
exit "$rc"
