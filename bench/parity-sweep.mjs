// parity-sweep.mjs — measures how far SmallMind's logits drift from llama.cpp's per weight type,
// over many random models, to justify the tolerances in tests/js/parity.test.js.
//   node bench/parity-sweep.mjs [seeds=10]            F32 KV caches on both sides
//   node bench/parity-sweep.mjs [seeds=4] --kv f16    F16 caches on both sides (llama.cpp's default,
//     flash attention off; SmallMind kvType 'f16'). The drift is larger than with F32 caches:
//     llama.cpp also rounds the query and the softmax weights to F16 before its F16 matmuls, which
//     SmallMind does not (it reads the cache into f32 arithmetic).
// Prints one line per weight type.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { writeRandomLlama, WEIGHT_TYPES } from '../tests/js/support/random-model.js';
import { referenceGreedy, top2Gap, disposeReferenceLlama } from '../tests/js/support/llama-ref.js';
import { wasmGreedy, relMaxDiff, disposeEngines } from '../tests/js/support/engine-run.js';

const args = process.argv.slice(2);
const kvAt = args.indexOf('--kv');
const f16 = kvAt >= 0 && args[kvAt + 1] === 'f16';
if (kvAt >= 0) args.splice(kvAt, 2);
const seeds = Number(args[0] ?? (f16 ? 4 : 10));
const firstSeed = f16 ? 40 : 20;
const prompt = [1, 17, 300, 42, 99, 5, 260, 7, 11, 450];
const shapes = [{ n_head: 8, n_head_kv: 2 }, { tied: true }, { n_layer: 3, n_ff: 768 }];
const dir = await mkdtemp(join(tmpdir(), 'sm-sweep-'));
const path = join(dir, 'model.gguf');
/** @type {Record<string, {maxRel: number, div: number, gapDiv: number}[]>} */
const res = {};
for (const wt of WEIGHT_TYPES) {
  for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
    for (const shape of shapes) {
      await writeRandomLlama(path, { weightType: wt, seed, ...shape });
      const ref = await referenceGreedy(path, prompt, 64, { f32Kv: !f16 });
      const ours = await wasmGreedy(path, prompt, 64, { kvType: f16 ? 'f16' : 'f32' });
      let maxRel = 0, div = -1, gapDiv = 0;
      for (let i = 0; i < ref.tokens.length; i++) {
        maxRel = Math.max(maxRel, relMaxDiff(ours.logits[i], ref.logits[i]));
        if (ours.tokens[i] !== ref.tokens[i]) { div = i; gapDiv = top2Gap(ref.logits[i]); break; }
      }
      (res[wt] ??= []).push({ maxRel, div, gapDiv });
    }
  }
}
for (const [wt, r] of Object.entries(res)) {
  const m = r.map((x) => x.maxRel).sort((a, b) => a - b);
  const divs = r.filter((x) => x.div >= 0);
  console.log(`${wt.padEnd(6)} worst ${m.at(-1).toExponential(2)} p90 ${m[Math.floor(m.length * 0.9)].toExponential(2)} ` +
    `diverged ${divs.length}/${r.length} max-gap-at-divergence ${Math.max(0, ...divs.map((x) => x.gapDiv)).toFixed(3)}`);
}
await disposeReferenceLlama();
await disposeEngines();
await rm(dir, { recursive: true, force: true });
