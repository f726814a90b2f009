// evaluate.test.js — model.evaluate() (cross-entropy / perplexity over sliding windows) against
// llama.cpp scoring the same windows from its own logits, and model.health() on a sound model and
// on one whose weights hold NaNs.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SmallMind } from '../../bindings/js/index.js';
import { convertLlama2cFile } from '../../bindings/js/convert/llama2c.js';
import { writeGguf } from '../../bindings/js/convert/gguf-writer.js';
import { randomModelContent, writeRandomModel } from './support/random-model.js';
import { referenceLogits, disposeReferenceLlama } from './support/llama-ref.js';
import { STORIES_BIN, sharedOrSkip } from './support/shared-data.js';

const dir = await mkdtemp(join(tmpdir(), 'sm-evaluate-'));
test.after(async () => {
  await disposeReferenceLlama();
  await rm(dir, { recursive: true, force: true });
});

/** ln Σ exp in double precision. @param {ArrayLike<number>} x */
function logSumExp(x) {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) m = Math.max(m, x[i]);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - m);
  return m + Math.log(s);
}

/**
 * llama.cpp's cross-entropy for the same windows evaluate() uses: windows of W tokens advancing by
 * S, each from an empty cache, every token after the first scored once by the first window that
 * holds it with history. Written from that description, not from evaluate.js.
 * @param {string} path @param {number[]} ids @param {number} W @param {number} S
 */
async function referenceCrossEntropy(path, ids, W, S) {
  let nll = 0, n = 0, next = 1;
  for (let begin = 0; next < ids.length; begin += S) {
    const window = ids.slice(begin, Math.min(begin + W, ids.length));
    const logits = await referenceLogits(path, window, { contextSize: W + 1, f32Kv: false });
    for (let j = 0; j + 1 < window.length; j++) {
      const target = begin + j + 1;
      if (target < next) continue;
      nll += logSumExp(logits[j]) - logits[j][ids[target]];
      n++;
    }
    next = begin + window.length;
  }
  return { crossEntropy: nll / n, scored: n };
}

test('perplexity of stories260K on its own sampled text agrees with llama.cpp within 1%', async (t) => {
  if (!sharedOrSkip(t, STORIES_BIN)) return;
  const path = join(dir, 'stories260K.gguf');
  await convertLlama2cFile(STORIES_BIN, path);
  const model = await SmallMind.load(path, { threads: 1 });
  try {
    // a text from the model's own distribution (seeded sampling at temperature 1), as token ids:
    // stories260K's tokenizer is not available
    const ids = [1, ...(await sampleIds(path, 299))];
    const W = 128, S = 64;
    const ours = await model.evaluate(ids, { contextSize: W, stride: S });
    const ref = await referenceCrossEntropy(path, ids, W, S);
    assert.equal(ours.evaluated, ids.length - 1);
    assert.equal(ref.scored, ids.length - 1);
    const refPpl = Math.exp(ref.crossEntropy);
    const rel = Math.abs(ours.perplexity - refPpl) / refPpl;
    console.log(`stories260K: perplexity ${ours.perplexity.toFixed(4)} vs llama.cpp ${refPpl.toFixed(4)} ` +
      `(relative difference ${rel.toExponential(2)}), ${ours.windows} windows, ${ours.ms} ms`);
    // better than a uniform guess over its 512 tokens (a broken forward pass is not)
    assert.ok(ours.perplexity > 1 && ours.perplexity < 512 / 1.5, `perplexity ${ours.perplexity}`);
    assert.ok(rel < 0.01, `perplexity differs by ${(rel * 100).toFixed(3)}%`);
  } finally {
    await model.dispose();
  }
});

/** Sampled ids from the low-level engine (seeded, temperature 1). @param {string} path @param {number} n */
async function sampleIds(path, n) {
  const { Engine } = await import('../../bindings/js/index.js');
  const { readFile } = await import('node:fs/promises');
  const engine = await Engine.create();
  const m = engine.loadModel(new Uint8Array(await readFile(path)));
  const s = m.createSession({ nCtx: n + 2, temperature: 1, seed: 7, ignoreEos: true });
  s.decode([1]);
  const out = [];
  for (let i = 0; i < n; i++) out.push(/** @type {number} */ (s.step()));
  s.free();
  m.free();
  engine.dispose();
  return out;
}

test('perplexity of a text through the tokenizer agrees with llama.cpp (F16 random model)', async () => {
  const { path } = await writeRandomModel(join(dir, 'f16.gguf'), { weightType: 'F16', seed: 21 });
  const model = await SmallMind.load(path, { threads: 1 });
  try {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(3);
    const ids = await model.tokenize(text, { addSpecial: true });
    const ours = await model.evaluate(text, { contextSize: 48, stride: 24 });
    assert.equal(ours.tokens, ids.length);
    const ref = await referenceCrossEntropy(path, ids, 48, 24);
    const rel = Math.abs(ours.crossEntropy - ref.crossEntropy) / ref.crossEntropy;
    console.log(`F16 random model: cross-entropy ${ours.crossEntropy.toFixed(5)} vs ${ref.crossEntropy.toFixed(5)} nats/token`);
    assert.ok(rel < 0.01, `cross-entropy differs by ${(rel * 100).toFixed(3)}%`);
    // one window covering everything scores every token once
    const whole = await model.evaluate(ids, { contextSize: ids.length });
    assert.equal(whole.windows, 1);
    await assert.rejects(model.evaluate('x', { contextSize: 1 }), /contextSize/);
    await assert.rejects(model.evaluate(ids, { contextSize: 16, stride: 16 }), /stride/);
    await assert.rejects(model.evaluate([5]), /at least 2 tokens/);
    await assert.rejects(model.evaluate(text, /** @type {any} */ ({ window: 3 })), /unknown evaluate option 'window'/);
  } finally {
    await model.dispose();
  }
});

test('health(): healthy on a sound model, unhealthy when the weights produce NaN logits', async () => {
  const { path } = await writeRandomModel(join(dir, 'sound.gguf'), { weightType: 'Q8_0', seed: 2 });
  const model = await SmallMind.load(path, { threads: 1 });
  const h = await model.health();
  await model.dispose();
  assert.equal(h.status, 'healthy', JSON.stringify(h));
  assert.deepEqual(h.checks.map((c) => c.name), ['weights', 'tokenizer', 'forward', 'logits']);
  assert.ok(h.checks.every((c) => c.status === 'pass'));

  // the same model with NaNs written into the output projection
  const { content } = randomModelContent({ weightType: 'F32', seed: 2 });
  const out = content.tensors.find((x) => x.name === 'output.weight');
  assert.ok(out);
  const data = typeof out.data === 'function' ? out.data() : out.data;
  const f = new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  for (let i = 0; i < f.length; i += 97) f[i] = NaN;
  out.data = data;
  await writeGguf(join(dir, 'nan.gguf'), content);
  const bad = await SmallMind.load(join(dir, 'nan.gguf'), { threads: 1 });
  const hb = await bad.health();
  await bad.dispose();
  assert.equal(hb.status, 'unhealthy');
  assert.match(hb.checks.find((c) => c.name === 'logits')?.message ?? '', /not finite/);
  // a forward pass over an impossible time limit is reported as degraded, not unhealthy
  const slow = await SmallMind.load(path, { threads: 1 });
  const hs = await slow.health({ maxForwardMs: 1e-6 });
  await slow.dispose();
  assert.equal(hs.status, 'degraded');
});
