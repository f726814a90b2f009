#!/usr/bin/env bash
# demo.sh — the main job on a fresh machine: install what is missing, build, convert the real
# stories260K checkpoint (../shared) to GGUF and generate from it with the WASM build under Node.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
src=../shared/models/stories260K/stories260K.bin
[ -f "$src" ] || { echo "demo: $src is missing" >&2; exit 1; }
mkdir -p build/models
node bindings/js/convert/llama2c-cli.js "$src" build/models/stories260K.gguf
npx smallmind generate --model build/models/stories260K.gguf --prompt-tokens 1 --max-tokens 32 \
  --temperature 0 --json
