#!/usr/bin/env bash
# profile.sh — where one `smallmind bench` run spends its time, per WASM function, under Node:
# relinks the single-thread SIMD128 build with --profiling-funcs (function names kept) into a
# scratch directory, runs the CLI's bench from it under `node --cpu-prof`, and prints the
# functions with the most self time. One thread only: the profiler samples the main thread.
#   bash bench/profile.sh MODEL.gguf [prompt=16] [gen=64] [top=20]
# Needs a configured build/wasm (bash scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:?usage: bash bench/profile.sh MODEL.gguf [prompt] [gen] [top]}
PROMPT=${2:-16} GEN=${3:-64} TOP=${4:-20}
MODEL=$(realpath "$MODEL")
LINK=build/wasm/CMakeFiles/smallmind-simd.dir/link.txt
[ -f "$LINK" ] || { echo "profile.sh: $LINK missing: run bash scripts/build.sh first" >&2; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export NODE_PATH=/usr/share/nodejs
# the link line writes bindings/js/wasm/smallmind-simd.mjs; send it to the scratch directory
CMD=$(sed "s# -o [^ ]*smallmind-simd\.mjs# -o $OUT/smallmind-simd.mjs#" "$LINK")
(cd build/wasm && eval "$CMD --profiling-funcs")
node --cpu-prof --cpu-prof-dir="$OUT/prof" bindings/js/cli.js bench --model "$MODEL" --threads 1 \
  --prompt "$PROMPT" --gen "$GEN" --wasm-dir "$OUT" --json
node -e '
const fs = require("fs");
const dir = process.argv[1], top = Number(process.argv[2]);
const p = JSON.parse(fs.readFileSync(`${dir}/${fs.readdirSync(dir)[0]}`, "utf8"));
const name = new Map(p.nodes.map((n) => [n.id, n.callFrame.functionName || "(anonymous)"]));
const self = new Map();
p.samples.forEach((id, i) => self.set(name.get(id), (self.get(name.get(id)) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
for (const [fn, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${(us / 1e3).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${fn}`);
' "$OUT/prof" "$TOP"
