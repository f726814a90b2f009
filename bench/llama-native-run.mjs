// llama-native-run.mjs — one llama.cpp (node-llama-cpp's prebuilt native CPU build) run in its own
// process, so its peak RSS is its own: load, prefill a prompt of token ids as one batch, decode
// greedily. Prints one JSON object like `smallmind bench --json`. Used by bench/compare.mjs.
//   node bench/llama-native-run.mjs --model FILE --threads N --prompt 128 --gen 128 [--vocab 32000]
//                                   [--repeat R]   (R fresh contexts, the fastest of each phase)
// F16 KV cache (llama.cpp's default), flash attention off, no GPU, never downloads or builds.
import { parseArgs } from 'node:util';

import { getReferenceLlama, disposeReferenceLlama } from '../tests/js/support/llama-ref.js';

const { values } = parseArgs({ options: {
  model: { type: 'string' }, threads: { type: 'string', default: '1' },
  prompt: { type: 'string', default: '128' }, gen: { type: 'string', default: '128' },
  vocab: { type: 'string', default: '32000' }, repeat: { type: 'string', default: '1' },
} });
const threads = Number(values.threads), nPrompt = Number(values.prompt), nGen = Number(values.gen);
const t0 = performance.now();
const llama = await getReferenceLlama();
const model = await llama.loadModel({ modelPath: /** @type {string} */ (values.model), gpuLayers: 0 });
const openContext = () => model.createContext({ contextSize: nPrompt + nGen + 8, batchSize: nPrompt, threads, flashAttention: false });
let ctx = await openContext();
const t1 = performance.now();
const nVocab = Number(values.vocab); // the same ids as `smallmind bench` feeds
const prompt = Array.from({ length: nPrompt }, (_, i) => 3 + ((i * 7919) % (nVocab - 3)));
/** @type {any} */ const want = { generateNext: { token: true } };
let best = { prefill: Infinity, decode: Infinity };
for (let r = 0; r < Math.max(1, Number(values.repeat)); r++) {
  if (r > 0) { await ctx.dispose(); ctx = await openContext(); }
  const seq = ctx.getSequence();
  const a = performance.now();
  let res = await seq.controlledEvaluate(/** @type {any} */ ([...prompt.slice(0, -1), [prompt.at(-1), want]]));
  const b = performance.now();
  for (let i = 0; i < nGen; i++) res = await seq.controlledEvaluate(/** @type {any} */ ([[res.at(-1).next.token, want]]));
  const c = performance.now();
  best = { prefill: Math.min(best.prefill, b - a), decode: Math.min(best.decode, c - b) };
}
await ctx.dispose();
await model.dispose();
await disposeReferenceLlama();
process.stdout.write(JSON.stringify({
  engine: 'llama.cpp native (node-llama-cpp)', threads, n_prompt: nPrompt, n_gen: nGen,
  load_s: +((t1 - t0) / 1e3).toFixed(4), prefill_tok_s: +(nPrompt / (best.prefill / 1e3)).toFixed(2),
  decode_tok_s: +(nGen / (best.decode / 1e3)).toFixed(2), repeat: Math.max(1, Number(values.repeat)),
  peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
}) + '\n');
