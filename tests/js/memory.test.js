// memory.test.js — what loading and generating cost in memory, measured on this process's real
// resident set (Linux /proc), in child processes so nothing else shares the numbers:
//   * peak memory during load + generation stays within file size + KV cache + 15% over the
//     process's baseline (the download goes straight into WASM memory, no second copy in JS);
//   * 1,000 load / generate / abort cycles (plus an aborted load each) leave memory flat.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { writeRandomLlama } from './support/random-model.js';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('./fixtures/memory-probe.mjs', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'sm-memory-'));
test.after(() => rm(dir, { recursive: true, force: true }));

/** @param {string[]} args */
async function probe(args) {
  const { stdout } = await run(process.execPath, ['--expose-gc', PROBE, ...args], { timeout: 600_000, maxBuffer: 2 ** 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
}

const MiB = (/** @type {number} */ b) => `${(b / 2 ** 20).toFixed(1)} MiB`;

test('peak memory of load + generate ≤ file + KV cache + 15% (a ~330 MB model)', async () => {
  const path = join(dir, 'big.gguf');
  // Q8_0, 1024 wide, 16 layers, 32k vocabulary: ~330 MB, large enough that the runtime's own
  // baseline (worker isolate, WASM runtime) is small beside the 15% allowance
  await writeRandomLlama(path, { weightType: 'Q8_0', n_embd: 1024, n_layer: 16, n_ff: 4096, n_head: 16, n_head_kv: 4, n_vocab: 32000, n_ctx: 2048 });
  const r = await probe(['peak', path]);
  const used = r.peakRss - r.baselineRss;
  const budget = (r.fileSize + r.kvCache) * 1.15;
  console.log(`peak over baseline ${MiB(used)} for a ${MiB(r.fileSize)} file + ${MiB(r.kvCache)} KV cache ` +
    `(${(used / (r.fileSize + r.kvCache)).toFixed(3)}x; budget 1.15x = ${MiB(budget)}); WASM memory ${MiB(r.wasmBytes)}`);
  assert.equal(r.generated, 8);
  assert.ok(r.fileSize > 300e6);
  assert.ok(used <= budget, `peak ${MiB(used)} over baseline exceeds ${MiB(budget)}`);
  // and a second full copy of the file would be caught: it alone exceeds the allowance
  assert.ok(r.fileSize > 0.15 * (r.fileSize + r.kvCache) + (budget - used));
});

test('1,000 load / generate / abort cycles leave memory flat', async () => {
  const path = join(dir, 'small.gguf');
  await writeRandomLlama(path, { weightType: 'Q8_0', seed: 5 });
  const r = await probe(['cycles', path, '1000']);
  const median = (/** @type {number[]} */ xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const early = median(r.rss.slice(1, 6));
  const late = median(r.rss.slice(-5));
  console.log(`RSS over ${r.cycles} cycles (MiB): ${r.rss.map((/** @type {number} */ x) => (x / 2 ** 20).toFixed(0)).join(' ')}`);
  assert.equal(r.rss.length, 20);
  assert.ok(late - early < 16 * 2 ** 20, `memory grew from ${MiB(early)} to ${MiB(late)} over ${r.cycles} cycles`);
});
