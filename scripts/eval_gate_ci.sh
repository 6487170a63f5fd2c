#!/usr/bin/env bash
# The eval gate as a CI step: the demo agent (`seed_demo`) against the scripted demo model
# (`tests/fakes/openai_server.py --responder demo`). The gate must pass without the case tagged
# failing-on-purpose and fail (exit 1, that case named) with it. JUnit XML goes to var/.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" -m tests.fakes.openai_server --port "$port" --responder demo >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null' EXIT
for _ in $(seq 100); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
export OPENAI_BASE_URL="http://127.0.0.1:$port/v1" OPENAI_API_KEY=local DEBUG="${DEBUG:-true}"
mkdir -p var
"$PY" manage.py seed_demo >/dev/null || exit 1
gate=("$PY" manage.py eval_gate evals/fixtures/demo.yaml --agent assistant)

echo "==> eval gate: demo dataset without the failing-on-purpose case (must pass)"
"${gate[@]}" --exclude-tag failing-on-purpose --junit var/eval-gate.xml || exit 1

echo "==> eval gate: with the failing-on-purpose case (must fail)"
"${gate[@]}" --junit var/eval-gate-failing.xml >var/eval-gate-failing.txt 2>&1
rc=$?
cat var/eval-gate-failing.txt
if [ "$rc" != 1 ] || ! grep -q "capital-of-france#0 failed" var/eval-gate-failing.txt; then
  echo "the gate should have failed with exit 1 on capital-of-france (it exited $rc)" >&2
  exit 1
fi
echo "==> eval gate: passes on the demo cases and fails on the failing one, as it should"
