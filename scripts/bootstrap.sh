#!/usr/bin/env bash
# Create the virtualenv and install pinned requirements. Idempotent: reinstalls
# only when a requirements file changed since the last successful install.
#   scripts/bootstrap.sh            runtime requirements
#   scripts/bootstrap.sh dev        plus test, lint and type-check tools
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
kind=${1:-runtime}
req=requirements.txt
[ "$kind" = dev ] && req=requirements-dev.txt

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv in $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

stamp="$VENV/.installed-$kind"
digest=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
  exit 0
fi

# The offline embedder needs PyTorch; the CPU build is enough. Set TORCH_INDEX_URL
# (for example https://download.pytorch.org/whl/cpu) to avoid the CUDA build.
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "==> installing torch (CPU)"
  "$VENV/bin/python" -m pip install -q "torch==2.13.0" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}
fi
echo "==> installing $req"
"$VENV/bin/python" -m pip install -q -r "$req"
echo "$digest" > "$stamp"
