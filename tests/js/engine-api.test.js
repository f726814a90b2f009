// The JS object layer over WASM (bindings/js/engine.js): errors carry the C status as `code`,
// ownership rules hold (a model with live sessions cannot be freed), and a failed call changes
// nothing.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SmallMindError } from '../../bindings/js/index.js';
import { writeRandomLlama } from './support/random-model.js';
import { disposeEngines, sharedEngine } from './support/engine-run.js';

/** @type {string} */ let dir;
/** @type {Uint8Array} */ let bytes;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smallmind-api-'));
  const path = join(dir, 'm.gguf');
  await writeRandomLlama(path, { weightType: 'Q4_0', seed: 41, n_ctx: 64 });
  bytes = await readFile(path);
});
after(async () => {
  await disposeEngines();
  await rm(dir, { recursive: true, force: true });
});

/** @param {string} code @param {RegExp} msg */
const isError = (code, msg) => (/** @type {any} */ e) =>
  e instanceof SmallMindError && e.code === code && msg.test(e.message);

test('malformed files throw SmallMindError with the C status as code', async () => {
  const engine = await sharedEngine();
  assert.throws(() => engine.loadModel(new TextEncoder().encode('not a model file at all')), isError('SM_ERR_FORMAT', /magic/));
  assert.throws(() => engine.loadModel(new TextEncoder().encode('GGUF but not really')), isError('SM_ERR_VERSION', /version/));
  assert.throws(() => engine.loadModel(new Uint8Array([0x47, 0x47, 0x55, 0x46, 1, 0, 0, 0])), isError('SM_ERR_VERSION', /version/));
  assert.throws(() => engine.loadModel(bytes.subarray(0, bytes.length - 1)), isError('SM_ERR_FORMAT', /tensor '.*': tensor data out of range/));
});

test('model info, session decode/step, context full, bad ids, busy model', async () => {
  const engine = await sharedEngine();
  const model = engine.loadModel(bytes);
  assert.equal(model.info.arch, 'llama');
  assert.equal(model.info.n_vocab, 512);
  const s = model.createSession({ nCtx: 8, ignoreEos: true });
  assert.equal(s.logits(), null);
  s.decode([1, 2, 3]);
  assert.equal(s.nPast, 3);
  const before = s.logits();
  assert.throws(() => s.decode([1, 512]), isError('SM_ERR_INVALID_ARG', /outside the vocabulary/));
  assert.throws(() => s.decode([1, 2, 3, 4, 5, 6]), isError('SM_ERR_CONTEXT_FULL', /do not fit/));
  assert.equal(s.nPast, 3, 'a failed decode appends nothing');
  assert.deepEqual(s.logits(), before, 'a failed decode keeps the logits');
  const toks = [];
  for (let t; (t = s.step()) !== null;) toks.push(t);
  assert.equal(toks.length, 5, 'steps until the 8-token context is full');
  assert.throws(() => model.free(), isError('SM_ERR_BUSY', /live sessions/));
  s.rewind(0);
  assert.equal(s.nPast, 0);
  s.free();
  model.free();
});

test('memory estimate before allocation; sessions over the 4 GiB address space are refused', async () => {
  const engine = await sharedEngine();
  const model = engine.loadModel(bytes);
  const a = model.estimateMemory({ nCtx: 32 }), b = model.estimateMemory({ nCtx: 64 });
  assert.equal(a.weights, model.info.weight_bytes);
  assert.equal(b.kv_cache, 2 * a.kv_cache, 'the KV cache grows with the context');
  assert.equal(a.total, a.weights + a.kv_cache + a.scratch);
  assert.throws(() => model.createSession({ nCtx: 2 ** 30 }), isError('SM_ERR_NOMEM', /address space/));
  model.free();
});

