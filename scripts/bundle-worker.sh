#!/usr/bin/env bash
# bundle-worker.sh — the browser engine worker as one file beside the WASM modules, so an app's
# bundle only has to ship that directory (node:* imports are reached only under Node, Deno, Bun).
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/esbuild workers/browser.js --bundle --format=esm --platform=browser --target=es2022 \
  --external:'node:*' --log-level=warning --outfile=bindings/js/wasm/smallmind-worker.mjs
