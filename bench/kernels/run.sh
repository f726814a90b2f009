#!/usr/bin/env bash
# run.sh — builds the kernel lab with the engine's kernel sources (WASM SIMD128) and runs it under
# Node: once with the production tile width (v2: 8 tokens per tile for Q4_0/Q8_0) and once with
# 4 (v1), so the versions are compared in one run. Usage: bash bench/kernels/run.sh [n_tok=64]
set -euo pipefail
cd "$(dirname "$0")/../.."
export NODE_PATH=/usr/share/nodejs
OUT=${SM_LAB_OUT:-build-lab}
mkdir -p "$OUT"
KERN=$(ls src/kern/*.c)
for tile in 4 8; do
  emcc -O3 -msimd128 -DSM_GEMM_TILE=$tile -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $KERN \
    bench/kernels/gemm_lab.c -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 \
    -o "$OUT/gemm_lab_t$tile.cjs"
done
for rep in 1 2; do
  for tile in 4 8; do node "$OUT/gemm_lab_t$tile.cjs" "${1:-64}" | sed "s/^{/{\"tile\":$tile,/"; done
done
