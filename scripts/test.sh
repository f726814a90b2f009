#!/usr/bin/env bash
# test.sh — every test: installs what is missing, builds, then runs
#   1. the C unit tests natively (scalar reference kernels)
#   2. the same tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   3. the same tests compiled to WASM (SIMD128 kernels) under Node
#   4. the libFuzzer targets: GGUF parser, model loader and header probe for SM_FUZZ_SECONDS
#      (default 45) each,
#      the tokenizers for SM_FUZZ_TOK_SECONDS (default 30), the SMND reader/writer for
#      SM_FUZZ_SMND_SECONDS (default 60)
#   5. the JS suites (node:test): CLI contract, native vs WASM, parity with llama.cpp, tokenizers
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
JOBS=$(nproc)
export NODE_PATH=/usr/share/nodejs

echo "== C tests (native, scalar)"
ctest --test-dir build/native --output-on-failure -j "$JOBS"

echo "== exported symbols: every global the engine defines starts with sm_"
stray=$(nm -g --defined-only build/native/libsm.a | awk 'NF == 3 { print $3 }' | grep -v '^sm_' || true)
[ -z "$stray" ] || { echo "symbols outside the sm_ namespace:"; echo "$stray"; exit 1; }

echo "== C tests (ASan + UBSan)"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DSM_SANITIZE=ON -DSM_WERROR=ON >/dev/null
cmake --build build/asan -j "$JOBS"
ctest --test-dir build/asan --output-on-failure -j "$JOBS"

echo "== C tests (WASM SIMD128 under Node)"
ctest --test-dir build/wasm --output-on-failure -j "$JOBS"

echo "== C tests (WASM with SIMD disabled: the scalar reference path compiles and passes)"
emcmake cmake -S . -B build/wasm-scalar -DCMAKE_BUILD_TYPE=Release -DSM_SIMD=OFF -DSM_WERROR=ON \
  -DSM_WASM_OUT="$PWD/build/wasm-scalar/modules" >/dev/null
cmake --build build/wasm-scalar -j "$JOBS"
ctest --test-dir build/wasm-scalar --output-on-failure -j "$JOBS"

echo "== fuzz: GGUF reader, model loader and header probe (libFuzzer, ${SM_FUZZ_SECONDS:-45} s each), tokenizers (${SM_FUZZ_TOK_SECONDS:-30} s), SMND (${SM_FUZZ_SMND_SECONDS:-60} s)"
CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSM_FUZZ=ON -DSM_BUILD_TESTS=OFF >/dev/null
cmake --build build/fuzz -j "$JOBS" --target fuzz_gguf fuzz_model_load fuzz_probe fuzz_tokenize fuzz_smnd
rm -rf build/fuzz/seeds && node tests/fuzz/make-seeds.js build/fuzz/seeds
# SMND seeds: the GGUF seeds, their SMND conversions and metadata JSON (written through the WASM build)
rm -rf build/fuzz/seeds-smnd && node tests/fuzz/make-smnd-seeds.js build/fuzz/seeds build/fuzz/seeds-smnd
# tokenizer seeds: byte 0 picks one of fuzz_tokenize's 18 built-in vocabularies, the rest is text
rm -rf build/fuzz/seeds-tok && mkdir -p build/fuzz/seeds-tok
for v in $(seq 0 17); do
  printf "\\x$(printf %02x "$v")%s" "Hello, y'all! 123 <|im_start|>x</s> naïve 你好 🦙
  tab	end" > "build/fuzz/seeds-tok/$v"
done
# target:seconds:max_len:seeds
for spec in "fuzz_gguf:${SM_FUZZ_SECONDS:-45}:65536:seeds" "fuzz_model_load:${SM_FUZZ_SECONDS:-45}:65536:seeds" \
            "fuzz_probe:${SM_FUZZ_SECONDS:-45}:16384:seeds" \
            "fuzz_tokenize:${SM_FUZZ_TOK_SECONDS:-30}:8192:seeds-tok" \
            "fuzz_smnd:${SM_FUZZ_SMND_SECONDS:-60}:65536:seeds-smnd"; do
  IFS=: read -r target secs max_len seeds <<< "$spec"
  mkdir -p "build/fuzz/corpus-$target"
  # -fork-free single process: any crash, leak or sanitizer report fails the run
  "build/fuzz/$target" -max_total_time="$secs" -max_len="$max_len" -print_final_stats=1 \
    "build/fuzz/corpus-$target" "build/fuzz/$seeds" > "build/fuzz/$target.log" 2>&1 \
    || { tail -n 60 "build/fuzz/$target.log"; echo "fuzz: $target failed"; exit 1; }
  grep -E "^stat::number_of_executed_units|Done [0-9]+ runs" "build/fuzz/$target.log" | tail -n 2
done

echo "== JS tests"
node --test --test-concurrency=1 tests/js/
