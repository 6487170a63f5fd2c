#!/usr/bin/env bash
# Create the virtualenv and install the pinned requirements with uv (pinned below, installed
# with pip into the virtualenv). Idempotent: installs only when a requirements file changed
# since the last successful install, and the dev install (`make test`) adds the test, lint
# and type-check tools to the runtime install (`make run`) instead of doing it again.
#   scripts/bootstrap.sh            runtime requirements
#   scripts/bootstrap.sh dev        plus test, lint and type-check tools
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
UV_VERSION=0.13.8
TORCH_VERSION=2.13.0
kind=${1:-runtime}

digest() { cat "$@" | sha256sum | cut -d' ' -f1; }
runtime_digest=$(digest requirements.txt)
dev_digest=$(digest requirements.txt requirements-dev.txt)
current() { [ -f "$VENV/.installed-$1" ] && [ "$(cat "$VENV/.installed-$1")" = "$2" ]; }

# The dev install holds the runtime one: either stamp being current is enough for `make run`.
if current dev "$dev_digest" || { [ "$kind" = runtime ] && current runtime "$runtime_digest"; }; then
  exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating virtualenv in $VENV"
  "$PYTHON" -m venv "$VENV"
fi
if [ "$("$VENV/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  echo "==> installing uv $UV_VERSION"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi

# uv reads neither pip's configuration nor PIP_* variables: pass on the local wheel
# directory a machine may have (PIP_FIND_LINKS) so its wheels are used, as pip would.
args=(--python "$VENV/bin/python")
for links in ${PIP_FIND_LINKS:-} ${UV_EXTRA_FIND_LINKS:-}; do args+=(--find-links "$links"); done

# The offline embedder needs PyTorch; the CPU build is enough. Set TORCH_INDEX_URL
# (for example https://download.pytorch.org/whl/cpu) to avoid the CUDA build.
torch=("torch==$TORCH_VERSION")
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  echo "==> installing torch $TORCH_VERSION from $TORCH_INDEX_URL"
  "$VENV/bin/uv" pip install -q "${args[@]}" --index-url "$TORCH_INDEX_URL" "${torch[@]}"
  torch=()
fi

if [ "$kind" = dev ]; then
  echo "==> installing requirements-dev.txt (with uv)"
  "$VENV/bin/uv" pip install -q "${args[@]}" "${torch[@]}" -r requirements-dev.txt
  echo "$dev_digest" > "$VENV/.installed-dev"
else
  echo "==> installing requirements.txt (with uv)"
  "$VENV/bin/uv" pip install -q "${args[@]}" "${torch[@]}" -r requirements.txt
fi
echo "$runtime_digest" > "$VENV/.installed-runtime"
