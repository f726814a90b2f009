// cli/bench.js — `smallmind bench`: prefill and decode speed, load time and peak memory of the
// WASM engine under Node (greedy, end-of-generation tokens ignored).
//
// Contract: `--json` prints one JSON object with at least load_s, prefill_tok_s, decode_tok_s and
// peak_rss_mb.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Engine } from '../index.js';
import { intFlag, kvTypeFlag, parseFlags, required } from './args.js';
import { CliError, EXIT } from './errors.js';
import { engineLoadFile } from './model-file.js';

const HELP = `usage: smallmind bench --model FILE [--threads N] [--prompt 128] [--gen 128] [options]

Measures the engine on a model (WASM under Node; greedy, end-of-generation tokens ignored).

  --threads N        worker threads (default 1; N > 1 uses the threaded WASM build)
  --prompt N         prompt tokens processed as one prefill (default 128)
  --gen N            tokens decoded one by one after it (default 128)
  --batch N          prefill batch size (default: the whole prompt)
  --kv-type T        f16 (default) or f32
  --repeat R         prefill + decode R times on fresh sessions, report the fastest (default 1)
  --wasm-dir DIR     load the WASM modules from DIR instead of the package's own (development)
  --json             one JSON object: load_s (file read, WASM start, model load and session
                     creation), prefill_tok_s, decode_tok_s, peak_rss_mb (process peak),
                     kv_cache_mb, peak_vs_file_kv (peak ÷ (file + KV cache)), ...`;

/** @param {string[]} argv @returns {Promise<number>} */
async function run(argv) {
  const parsed = parseFlags('bench', argv, {
    model: { type: 'string' }, threads: { type: 'string' }, prompt: { type: 'string' },
    gen: { type: 'string' }, batch: { type: 'string' }, 'kv-type': { type: 'string' },
    repeat: { type: 'string' }, 'wasm-dir': { type: 'string' }, json: { type: 'boolean' },
  }, HELP);
  if (!parsed) return EXIT.OK;
  const values = parsed.values;
  const modelPath = required(values, 'model', 'FILE');
  const threads = intFlag(values, 'threads', 1, 1, 256);
  const nPrompt = intFlag(values, 'prompt', 128, 1), nGen = intFlag(values, 'gen', 128, 0);
  const repeat = intFlag(values, 'repeat', 1, 1);
  const kvType = kvTypeFlag(values['kv-type']) ?? 'f16';
  const nBatch = intFlag(values, 'batch', nPrompt, 1);
  const t0 = performance.now();
  const variant = threads > 1 ? 'mt' : 'simd';
  const wasmDir = values['wasm-dir'];
  const engine = await Engine.create({ variant, ...(wasmDir ? { assetsBase: pathToFileURL(resolve(wasmDir) + '/') } : {}) });
  try {
    const model = await engineLoadFile(engine, modelPath);
    const nCtx = nPrompt + nGen + 1;
    const open = () => model.createSession({ nCtx, nBatch, threads, ignoreEos: true, kvType });
    let session = open();
    const loadS = (performance.now() - t0) / 1e3;
    const nVocab = model.info.n_vocab;
    // ids spread over the vocabulary, away from the first few (control tokens in most files)
    const prompt = Array.from({ length: nPrompt }, (_, i) => 3 + ((i * 7919) % Math.max(1, nVocab - 3)));
    let best = { prefill: Infinity, decode: Infinity };
    for (let r = 0; r < repeat; r++) {
      if (r > 0) { session.free(); session = open(); }
      const a = performance.now();
      session.decode(prompt);
      const b = performance.now();
      for (let i = 0; i < nGen; i++) if (session.step() === null) throw new CliError(`generation ended after ${i} tokens`);
      const c = performance.now();
      best = { prefill: Math.min(best.prefill, b - a), decode: Math.min(best.decode, c - b) };
    }
    session.free();
    const info = model.info;
    // the KV cache this run's sessions held (the estimate assumes an F16 cache; F32 is twice that)
    const kvBytes = model.estimateMemory({ nCtx, nBatch, threads }).kv_cache * (kvType === 'f32' ? 2 : 1);
    model.free();
    const fileMb = Number(info.file_bytes) / 2 ** 20, kvMb = kvBytes / 2 ** 20;
    const peakMb = process.resourceUsage().maxRSS / 1024;
    const result = {
      model: modelPath, engine: `wasm-${engine.variant} ${engine.version}`, threads, kv_type: kvType,
      n_prompt: nPrompt, n_gen: nGen, repeat,
      load_s: +loadS.toFixed(4),
      prefill_tok_s: +(nPrompt / (best.prefill / 1e3)).toFixed(2),
      decode_tok_s: nGen ? +(nGen / (best.decode / 1e3)).toFixed(2) : 0,
      peak_rss_mb: +peakMb.toFixed(1),
      file_mb: +fileMb.toFixed(1),
      kv_cache_mb: +kvMb.toFixed(3),
      // issue 8's memory target: peak <= (file + KV cache) x 1.15; the process peak includes
      // Node's own ~40-50 MB
      peak_vs_file_kv: +(peakMb / (fileMb + kvMb)).toFixed(3),
      model_info: info,
    };
    if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
    else process.stdout.write(`load ${result.load_s} s, prefill ${result.prefill_tok_s} tok/s, decode ${result.decode_tok_s} tok/s, peak RSS ${result.peak_rss_mb} MB\n`);
    return EXIT.OK;
  } finally {
    engine.dispose();
  }
}

export const bench = { name: 'bench', summary: 'prefill/decode tokens per second, load time, peak memory', help: HELP, run };
