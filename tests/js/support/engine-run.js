// engine-run.js — runs SmallMind on a GGUF file the way llama-ref.js runs llama.cpp, so the two
// can be compared step by step: WASM (in this process) or the native driver (a child process).

import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

import { Engine } from '../../../bindings/js/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NATIVE_DRIVER = join(ROOT, 'build/native/smallmind-native');

/**
 * @typedef {object} EngineRun
 * @property {number[]} tokens greedy ids; tokens[i] = argmax(logits[i])
 * @property {Float32Array[]} logits logits[i] chose tokens[i]; step 0 follows the prompt
 */

/** @type {Map<string, Promise<Engine>>} */
const engines = new Map();

/** One shared engine per WASM variant for the whole test process. @param {'simd'|'mt'} variant */
export function sharedEngine(variant = 'simd') {
  if (!engines.has(variant)) engines.set(variant, Engine.create({ variant }));
  return /** @type {Promise<Engine>} */ (engines.get(variant));
}

export async function disposeEngines() {
  for (const p of engines.values()) (await p).dispose();
  engines.clear();
}

/** The first index of the largest value (greedy decoding's choice). @param {Float32Array} v */
function argmax(v) {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/**
 * Greedy continuation under the WASM build, ignoring end-of-generation tokens. The KV cache is F32
 * unless opts.kvType says otherwise, as llama-ref.js's reference runs use. With opts.forced (the
 * reference's tokens), step i still records this engine's own argmax in tokens[i] but feeds
 * forced[i] to the model, so every step's logits follow the same context as the reference's, also
 * after a near-tie made the two choose differently (compare.js's forced mode).
 * @param {string} path @param {number[]} prompt @param {number} nSteps
 * @param {{variant?: 'simd'|'mt', threads?: number, nBatch?: number, nCtx?: number, kvType?: 'f16'|'f32', forced?: number[]}} [opts]
 * @returns {Promise<EngineRun>}
 */
export async function wasmGreedy(path, prompt, nSteps, opts = {}) {
  const engine = await sharedEngine(opts.variant ?? 'simd');
  const model = engine.loadModel(await readFile(path));
  const session = model.createSession({
    threads: opts.threads ?? 1, nBatch: opts.nBatch, nCtx: opts.nCtx ?? prompt.length + nSteps + 1,
    ignoreEos: true, kvType: opts.kvType ?? 'f32',
  });
  try {
    session.decode(prompt);
    const tokens = [], logits = [];
    for (let i = 0; i < nSteps; i++) {
      const l = /** @type {Float32Array} */ (session.logits());
      logits.push(l);
      if (opts.forced) {
        tokens.push(argmax(l));
        if (i + 1 >= Math.min(nSteps, opts.forced.length)) break;
        session.decode([opts.forced[i]]);
        continue;
      }
      const t = session.step();
      if (t === null) break;
      tokens.push(t);
    }
    return { tokens, logits };
  } finally {
    session.free();
    model.free();
  }
}

/**
 * Greedy continuation under the native build (scalar reference kernels); F32 KV cache unless
 * opts.kvType says otherwise, like wasmGreedy.
 * @param {string} path @param {number[]} prompt @param {number} nSteps
 * @param {{threads?: number, nVocab: number, kvType?: 'f16'|'f32'}} opts
 * @returns {Promise<EngineRun>}
 */
export async function nativeGreedy(path, prompt, nSteps, opts) {
  const dir = await mkdtemp(join(tmpdir(), 'sm-native-'));
  try {
    const logitsPath = join(dir, 'logits.f32');
    const { stdout } = await promisify(execFile)(NATIVE_DRIVER, [
      'generate', '--model', path, '--prompt-tokens', prompt.join(','), '--max-tokens', String(nSteps),
      '--threads', String(opts.threads ?? 1), '--ignore-eos', '--ctx', String(prompt.length + nSteps + 1),
      '--logits-out', logitsPath, '--json', '--kv-type', opts.kvType ?? 'f32',
    ]);
    const out = JSON.parse(stdout);
    const raw = await readFile(logitsPath);
    const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const logits = [];
    for (let i = 0; i < out.tokens.length; i++) logits.push(all.slice(i * opts.nVocab, (i + 1) * opts.nVocab));
    return { tokens: out.tokens, logits };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Largest |a - b| over a vector, divided by the reference's RMS (the logits' natural scale).
 * @param {ArrayLike<number>} ours @param {ArrayLike<number>} ref
 */
export function relMaxDiff(ours, ref) {
  let max = 0, ss = 0;
  for (let i = 0; i < ref.length; i++) {
    max = Math.max(max, Math.abs(ours[i] - ref[i]));
    ss += ref[i] * ref[i];
  }
  return max / Math.sqrt(ss / ref.length);
}
