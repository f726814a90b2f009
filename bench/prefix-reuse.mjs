// prefix-reuse.mjs — how much sooner a session's second turn answers than a fresh session given
// the same history (issue 4's target: at least 5x sooner for a 500-token history).
//
//   node bench/prefix-reuse.mjs [--history 500] [--turn 20] [--threads 1] [--repeat 3] [--json]
//
// The model is random weights in a real small shape (768 wide, 12 layers, 32k vocabulary, Q8_0;
// speed does not depend on the values), written once to bench/.cache/. Prompts are token ids so the
// history is exactly --history tokens. Each repeat: a session takes the history (turn 1), then
// history + --turn new tokens (turn 2, timed); a fresh generation takes history + turn (timed).
// Time to first token is measured inside the engine (metrics.timeToFirstTokenMs).

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

import { SmallMind } from '../bindings/js/index.js';
import { writeRandomLlama, makeRng } from '../tests/js/support/random-model.js';

const { values } = parseArgs({ options: {
  history: { type: 'string', default: '500' }, turn: { type: 'string', default: '20' },
  threads: { type: 'string', default: '1' }, repeat: { type: 'string', default: '3' }, json: { type: 'boolean' },
} });
const nHistory = Number(values.history), nTurn = Number(values.turn), threads = Number(values.threads), repeat = Number(values.repeat);
const cache = fileURLToPath(new URL('./.cache/', import.meta.url));
await mkdir(cache, { recursive: true });
const path = join(cache, 'prefix-reuse-768x12-q8_0.gguf');
if (!existsSync(path)) {
  await writeRandomLlama(path, { weightType: 'Q8_0', n_embd: 768, n_layer: 12, n_head: 12, n_head_kv: 4, n_ff: 2048, n_vocab: 32000, n_ctx: 2048, seed: 1 });
}
const rng = makeRng(7);
const ids = (/** @type {number} */ n) => Array.from({ length: n }, () => 3 + Math.floor(rng.uniform() * 31000));

const model = await SmallMind.load(path, { threads });
const opts = { maxTokens: 1, ignoreEos: true };
const rows = [];
for (let r = 0; r < repeat; r++) {
  const history = [1, ...ids(nHistory - 1)];
  const turn2 = [...history, ...ids(nTurn)];
  const session = model.createSession({ contextSize: 1024 });
  for await (const _ of session.generate(history, opts)); // turn 1 (fills the cache)
  const s2 = session.generate(turn2, opts);
  for await (const _ of s2);
  const reused = await s2.metrics;
  await session.dispose();
  const f = model.generate(turn2, { ...opts, contextSize: 1024 });
  for await (const _ of f);
  const fresh = await f.metrics;
  rows.push({ sessionTtftMs: reused.timeToFirstTokenMs, freshTtftMs: fresh.timeToFirstTokenMs, cachedTokens: reused.cachedTokens,
    promptTokens: reused.promptTokens, ratio: fresh.timeToFirstTokenMs / reused.timeToFirstTokenMs });
}
await model.dispose();
const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const result = {
  model: '768x12 Q8_0 (random weights, real shape)', threads, historyTokens: nHistory, newTokens: nTurn,
  sessionTtftMs: median(rows.map((x) => x.sessionTtftMs)), freshTtftMs: median(rows.map((x) => x.freshTtftMs)),
  speedup: +median(rows.map((x) => x.ratio)).toFixed(2), target: 5, runs: rows,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`| history | new tokens | fresh session TTFT | second turn TTFT | speed-up (target ≥ 5×) |`);
  console.log(`|---|---|---|---|---|`);
  console.log(`| ${nHistory} | ${nTurn} | ${result.freshTtftMs.toFixed(1)} ms | ${result.sessionTtftMs.toFixed(1)} ms | ${result.speedup}× |`);
}
