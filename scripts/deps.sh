#!/usr/bin/env bash
# deps.sh — installs what building and testing SmallMind needs, skipping what is already there.
# Debian bookworm, run as root (or with sudo available). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v emcc >/dev/null || need+=(emscripten)
command -v cmake >/dev/null || need+=(cmake)
command -v clang >/dev/null || need+=(clang)
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || need+=(libclang-rt-14-dev)
command -v node >/dev/null || need+=(nodejs npm)
# browser tests drive Debian's Chromium through playwright-core (never a downloaded browser)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}"
fi

# node_modules: install from the lockfile when missing or older than it. Not `npm ci`: the registry
# this project reaches lacks some of node-llama-cpp 3.22.1's optional per-platform packages (Windows,
# macOS, riscv64), so the lockfile cannot list them and `npm ci` refuses it as out of sync, while
# `npm install` honours the lockfile and skips the missing optional packages (.npmrc omits
# optional ones anyway). 3.22 is the first release that exposes raw logits, which the parity tests
# need.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm install --no-audit --no-fund
fi
