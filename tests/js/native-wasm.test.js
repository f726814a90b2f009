// The native build (scalar reference kernels, x86-64) and the WASM build (SIMD128 kernels) agree
// on the same files: identical greedy tokens and logits equal to float rounding. They run the same
// C code apart from the kernels, so the tolerance is the parity one for the type (activations are
// rounded to the same grids; a rare rounding flip is the only source of larger differences).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { convertLlama2cFile } from '../../bindings/js/convert/llama2c.js';
import { writeRandomLlama } from './support/random-model.js';
import { NATIVE_DRIVER, disposeEngines, nativeGreedy, wasmGreedy } from './support/engine-run.js';
import { STORIES_BIN, sharedOrSkip } from './support/shared-data.js';
import { TOLERANCE } from './support/tolerance.js';
import { compareRuns } from './support/compare.js';

/** @type {string} */ let dir;
before(async () => {
  assert.ok(existsSync(NATIVE_DRIVER), `${NATIVE_DRIVER} is missing: run scripts/build.sh`);
  dir = await mkdtemp(join(tmpdir(), 'smallmind-nw-'));
});
after(async () => {
  await disposeEngines();
  await rm(dir, { recursive: true, force: true });
});

const PROMPT = [1, 5, 9, 300, 2, 77];

for (const weightType of /** @type {const} */ (['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q5_1', 'Q2_K', 'Q3_K', 'Q4_K_M', 'Q5_K'])) {
  test(`native and WASM agree: ${weightType}`, async () => {
    const path = join(dir, `${weightType}.gguf`);
    await writeRandomLlama(path, { weightType, n_head: 8, n_head_kv: 2, seed: 31 });
    const wasm = await wasmGreedy(path, PROMPT, 32);
    const native = await nativeGreedy(path, PROMPT, 32, { nVocab: wasm.logits[0].length, threads: 2 });
    compareRuns(native, wasm, TOLERANCE[weightType]);
  });
}

test('native and WASM give identical stories260K tokens (200 steps)', async (t) => {
  if (!sharedOrSkip(t, STORIES_BIN)) return;
  const path = join(dir, 'stories.gguf');
  await convertLlama2cFile(STORIES_BIN, path);
  const wasm = await wasmGreedy(path, [1], 200);
  const native = await nativeGreedy(path, [1], 200, { nVocab: 512 });
  assert.deepEqual(native.tokens, wasm.tokens);
});
