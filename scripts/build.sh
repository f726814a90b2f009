#!/usr/bin/env bash
# build.sh — installs missing dependencies, then builds the native engine (build/native) and the two
# WASM variants (bindings/js/wasm/smallmind-{simd,mt}.{mjs,wasm}) and the bundled browser worker.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
JOBS=$(nproc)
# Debian's emscripten runs its JS optimizer with the system node, which needs this module path
export NODE_PATH=/usr/share/nodejs

cmake -S . -B build/native -DCMAKE_BUILD_TYPE=Release -DSM_WERROR=ON >/dev/null
cmake --build build/native -j "$JOBS"
emcmake cmake -S . -B build/wasm -DCMAKE_BUILD_TYPE=Release -DSM_WERROR=ON >/dev/null
cmake --build build/wasm -j "$JOBS"
bash scripts/bundle-worker.sh
echo "build: native tools in build/native, WASM modules and the engine worker in bindings/js/wasm"
