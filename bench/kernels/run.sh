#!/usr/bin/env bash
# run.sh — builds the kernel labs with the engine's kernel sources (WASM SIMD128) and runs them
# under Node, each printing JSON lines of numbered versions beside the scalar reference:
#   gemm_lab   prefill tiles (twice, tile widths 4 and 8 for Q4_0/Q8_0), all gemm types, and a
#              Q4_0/Q8_0 tile that orders its float work differently (v2)
#   dot_lab    decode block loops (Q4_0, Q8_0), and Q4_0 gemvs in the reference's float order
#   gemv_k_lab decode gemvs of the K-quants (Q4_K, Q6_K), with subnormal scales too
#   lanes_lab  the token-lane summation order (Q4_0), kept as a measured negative result
#   ops_lab    row operations (rmsnorm, softmax, SiLU/GELU, RoPE, exp, ...)
#   threads_lab  the Q4_0 gemv on one thread against two (in one module), from memory
# Usage: bash bench/kernels/run.sh [--browser] [n_tok=64] [lab ...]   (default: all labs)
#   --browser: build the labs for the web and run each on a page in headless Chromium
#   (browser-run.mjs) instead of under Node: the two V8s have ranked kernel versions differently.
# Timings on a shared 2-core machine drift by 30% between runs: compare versions within one run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export NODE_PATH=/usr/share/nodejs
OUT=${SM_LAB_OUT:-build-lab}
BROWSER=0
if [ "${1:-}" = --browser ]; then BROWSER=1; OUT=$OUT/web; shift; fi
N_TOK=${1:-64}
shift || true
LABS=${*:-gemm dot gemv_k lanes ops threads}
mkdir -p "$OUT"
KERN=$(ls src/kern/*.c)
build() { # name extra-flags...
  local name=$1; shift
  if [ $BROWSER = 1 ]; then
    emcc -O3 -msimd128 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc "$@" $KERN \
      "bench/kernels/$name.c" -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=web -o "$OUT/$name${SUFFIX:-}.js"
  else
    emcc -O3 -msimd128 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc "$@" $KERN \
      "bench/kernels/$name.c" -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0 \
      -o "$OUT/$name${SUFFIX:-}.cjs"
  fi
}
lab() { # name args...: runs a built lab under Node or in Chromium
  local name=$1; shift
  if [ $BROWSER = 1 ]; then node bench/kernels/browser-run.mjs "$OUT/$name.js" "$@"
  else node "$OUT/$name.cjs" "$@"; fi
}
for lab in $LABS; do
  case $lab in
  gemm)
    for tile in 4 8; do SUFFIX=_t$tile build gemm_lab -DSM_GEMM_TILE=$tile; done
    for rep in 1 2; do
      for tile in 4 8; do lab "gemm_lab_t$tile" "$N_TOK" | sed "s/^{/{\"lab\":\"gemm\",\"tile\":$tile,/"; done
    done ;;
  dot) build dot_lab && lab dot_lab 3 | sed 's/^{/{"lab":"dot",/' ;;
  gemv_k) build gemv_k_lab && lab gemv_k_lab 3 | sed 's/^{/{"lab":"gemv_k",/' ;;
  lanes) build lanes_lab && lab lanes_lab 3 | sed 's/^{/{"lab":"lanes",/' ;;
  ops) build ops_lab && lab ops_lab | sed 's/^{/{"lab":"ops",/' ;;
  threads)
    if [ $BROWSER = 1 ]; then echo "threads: Node only" >&2; continue; fi
    emcc -O3 -msimd128 -pthread -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc $KERN \
      bench/kernels/threads_lab.c -sINITIAL_MEMORY=256MB -sALLOW_MEMORY_GROWTH=1 \
      -sPTHREAD_POOL_SIZE=2 -sPROXY_TO_PTHREAD -sEXIT_RUNTIME=1 -sENVIRONMENT=node,worker \
      -o "$OUT/threads_lab.js"
    node --no-experimental-fetch "$OUT/threads_lab.js" | sed 's/^{/{"lab":"threads",/' ;;
  *) echo "unknown lab: $lab (gemm, dot, gemv_k, lanes, ops, threads)" >&2; exit 2 ;;
  esac
done
