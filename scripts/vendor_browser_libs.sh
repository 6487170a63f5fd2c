#!/usr/bin/env bash
# Install the browser libraries of the chat UI and the admin's charts from npm (pinned in frontend/package.json)
# and copy them into static/vendor/, which is committed: the UI never loads from a CDN.
set -euo pipefail
cd "$(dirname "$0")/../frontend"
npm ci --no-audit --no-fund --loglevel=error
dest=../static/vendor
mkdir -p "$dest"
cp node_modules/marked/lib/marked.esm.js "$dest/marked.esm.js"
cp node_modules/dompurify/dist/purify.es.mjs "$dest/purify.es.mjs"
cp node_modules/marked/LICENSE* "$dest/marked.LICENSE.md"
cp node_modules/dompurify/LICENSE "$dest/dompurify.LICENSE"
cp node_modules/echarts/dist/echarts.esm.min.js "$dest/echarts.esm.min.js"
cp node_modules/echarts/LICENSE "$dest/echarts.LICENSE"
# No source maps are shipped: drop the references (the manifest storage would look for them).
sed -i '/sourceMappingURL=/d' "$dest/marked.esm.js" "$dest/purify.es.mjs"
echo "vendored: $(ls "$dest")"
