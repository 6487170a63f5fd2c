#!/usr/bin/env bash
# The AI SDK client the Node test reads the chat route with (pinned in tests/node/package.json).
set -euo pipefail
cd "$(dirname "$0")/../../tests/node"
if [ -d node_modules/ai ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then exit 0; fi
npm ci --no-audit --no-fund --loglevel=error
