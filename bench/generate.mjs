// generate.mjs — prefill and decode speed of SmallMind (WASM under Node: single-thread SIMD and
// threaded) beside llama.cpp (node-llama-cpp's native CPU build) on the same GGUF file, printed as
// one JSON object. Ratios are SmallMind / llama.cpp at the same thread count, same run, same file.
//
//   node bench/generate.mjs [--model FILE] [--prompt 128] [--decode 32] [--threads 2]
//
// Without --model it writes a random model shaped like SmolLM-135M (576 wide, 30 layers, 9/3
// heads, vocab 49152, tied) in Q8_0. Speed is not this goal (see the speed issue); this
// records where we stand. Timings are wall clock, best of 2 runs each.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { Engine } from '../bindings/js/index.js';
import { getReferenceLlama, disposeReferenceLlama } from '../tests/js/support/llama-ref.js';
import { writeRandomLlama } from '../tests/js/support/random-model.js';

const { values } = parseArgs({ options: {
  model: { type: 'string' }, prompt: { type: 'string', default: '128' },
  decode: { type: 'string', default: '32' }, threads: { type: 'string', default: '2' },
} });
const nPrompt = Number(values.prompt), nDecode = Number(values.decode), maxThreads = Number(values.threads);
const dir = await mkdtemp(join(tmpdir(), 'sm-bench-'));
const path = values.model ?? join(dir, 'smol-shaped-q8_0.gguf');
if (!values.model) {
  await writeRandomLlama(path, { weightType: 'Q8_0', n_vocab: 49152, n_embd: 576, n_layer: 30, n_head: 9,
    n_head_kv: 3, n_ff: 1536, n_ctx: 2048, tied: true, seed: 1 });
}
const bytes = await readFile(path);
const prompt = Array.from({ length: nPrompt }, (_, i) => 3 + ((i * 37) % 1000));

/** @param {() => Promise<{prefill: number, decode: number}>} fn best (lowest) of two runs, in ms */
async function best(fn) {
  const a = await fn(), b = await fn();
  return { prefill: Math.min(a.prefill, b.prefill), decode: Math.min(a.decode, b.decode) };
}
const rate = (/** @type {{prefill: number, decode: number}} */ t) => ({
  prefill_tok_s: +(nPrompt / (t.prefill / 1e3)).toFixed(1), decode_tok_s: +(nDecode / (t.decode / 1e3)).toFixed(1),
});

/** @param {'simd'|'mt'} variant @param {number} threads */
async function smallmind(variant, threads) {
  const engine = await Engine.create({ variant });
  const model = engine.loadModel(bytes);
  const t = await best(async () => {
    const s = model.createSession({ threads, nCtx: nPrompt + nDecode + 8, ignoreEos: true });
    const t0 = performance.now();
    s.decode(prompt);
    const t1 = performance.now();
    for (let i = 0; i < nDecode; i++) s.step();
    const t2 = performance.now();
    s.free();
    return { prefill: t1 - t0, decode: t2 - t1 };
  });
  model.free();
  engine.dispose();
  return rate(t);
}

/** @param {number} threads */
async function llamaCpp(threads) {
  const llama = await getReferenceLlama();
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const t = await best(async () => {
    const ctx = await model.createContext({ contextSize: nPrompt + nDecode + 8, batchSize: nPrompt, threads });
    const seq = ctx.getSequence();
    /** @type {any} */ const want = { generateNext: { token: true } };
    const t0 = performance.now();
    let res = await seq.controlledEvaluate([...prompt.slice(0, -1), [prompt.at(-1), want]]);
    const t1 = performance.now();
    for (let i = 0; i < nDecode; i++) res = await seq.controlledEvaluate([[/** @type {any} */ (res.at(-1)).next.token, want]]);
    const t2 = performance.now();
    await ctx.dispose();
    return { prefill: t1 - t0, decode: t2 - t1 };
  });
  await model.dispose();
  return rate(t);
}

const results = { file: values.model ?? 'random SmolLM-135M-shaped Q8_0', prompt_tokens: nPrompt, decode_tokens: nDecode,
  runs: /** @type {any[]} */ ([]) };
for (let threads = 1; threads <= maxThreads; threads++) {
  const ours = await smallmind(threads === 1 ? 'simd' : 'mt', threads);
  const ref = await llamaCpp(threads);
  results.runs.push({ threads, smallmind_wasm: ours, llama_cpp_native: ref,
    ratio_prefill: +(ours.prefill_tok_s / ref.prefill_tok_s).toFixed(3),
    ratio_decode: +(ours.decode_tok_s / ref.decode_tok_s).toFixed(3) });
}
await disposeReferenceLlama();
await rm(dir, { recursive: true, force: true });
console.log(JSON.stringify(results, null, 2));
