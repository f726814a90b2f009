#!/usr/bin/env node
// cli.js — the `smallmind` command line (runs the WASM build under Node).
//
//   smallmind generate --model FILE --prompt-tokens 1,450,4996 --max-tokens 32 --temperature 0 --json
//   smallmind tokenize --model FILE --stdin --json
//   smallmind bench --model FILE --threads N --prompt 128 --gen 128 --json
//
// Contract relied on by tests and outside checks: with --json, `generate` prints one JSON object
// with at least `prompt_tokens` (ids fed, exactly as given) and `tokens` (generated ids). --threads
// N selects the thread count (N > 1 runs the pthreads build). Greedy decoding at temperature 0, no
// penalties. `tokenize --stdin` tokenizes the exact bytes of standard input (nothing trimmed or
// added) and with --json prints one JSON object whose `tokens` are the ids; no BOS/EOS is added and
// no special-token text is parsed unless --add-special / --parse-special. --model may be a
// vocab-only GGUF (no tensors): only the tokenizer is loaded. `bench --json` prints one JSON object
// with at least `load_s`, `prefill_tok_s`, `decode_tok_s` and `peak_rss_mb`.

import { readFile } from 'node:fs/promises';
import { Buffer } from 'node:buffer';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Engine } from './engine.js';

const USAGE = `usage: smallmind generate --model FILE --prompt-tokens 1,2,3 [options]
       smallmind tokenize --model FILE (--stdin | --text STRING) [options]
       smallmind detokenize --model FILE --tokens 1,2,3 [options]
       smallmind bench --model FILE [--threads N] [--prompt 128] [--gen 128] [--json]

generate:
  --max-tokens N     tokens to generate (default 32)
  --temperature T    0 = greedy (default 0)
  --seed S           sampler seed (default 24301)
  --top-k K          keep the K most likely tokens (default 0 = off)
  --top-p P          nucleus sampling, P in [0, 1] (default 1 = off)
  --min-p P          keep tokens with p >= P * p_max (default 0 = off)
  --repeat-penalty R, --frequency-penalty F, --presence-penalty P
                     penalties over the last --penalty-last-n tokens (default 64; off by default)
  --threads N        worker threads (default 1; N > 1 uses the threaded WASM build)
  --ctx N            context window (default: min(training context, 4096))
  --batch N          prompt batch size (default 64)
  --ignore-eos       keep generating past end-of-generation tokens
  --kv-type T        KV cache elements: f16 (default, half the memory) or f32 (exact)
  --json             print one JSON object

tokenize (--model may be a vocab-only GGUF; only its tokenizer is loaded):
  --stdin            tokenize the exact bytes of standard input (nothing trimmed or added)
  --text STRING      tokenize STRING (as UTF-8) instead
  --add-special      add BOS/EOS (BERT: [CLS]/[SEP]) as the file's metadata asks (default: off)
  --parse-special    turn special-token text such as <|im_start|> into its id (default: off)
  --json             print one JSON object: tokens, n_tokens, n_bytes, tokenizer facts

detokenize:
  --tokens 1,2,3     token ids to turn into text
  --render-special   write control tokens' text (default: they render as nothing)
  --json             print one JSON object: text, tokens

bench (WASM under Node; greedy, end-of-generation tokens ignored):
  --threads N        worker threads (default 1; N > 1 uses the threaded WASM build)
  --prompt N         prompt tokens processed as one prefill (default 128)
  --gen N            tokens decoded one by one after it (default 128)
  --batch N          prefill batch size (default: the whole prompt)
  --kv-type T        f16 (default) or f32
  --repeat R         prefill + decode R times on fresh sessions, report the fastest (default 1)
  --wasm-dir DIR     load the WASM modules from DIR instead of the package's own (development)
  --json             one JSON object: load_s (file read, WASM start, model load and session
                     creation), prefill_tok_s, decode_tok_s, peak_rss_mb (process peak), ...`;

/** @param {string} msg @returns {never} */
function fail(msg, code = 2) {
  process.stderr.write(`smallmind: ${msg}\n`);
  process.exit(code);
}

/** @param {string | undefined} v @param {string} name @param {number} dflt @param {number} min */
function intOpt(v, name, dflt, min) {
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min) fail(`--${name} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
}

/** @param {string} s @param {string} [name] */
function parseTokens(s, name = 'prompt-tokens') {
  const parts = s.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p))) {
    fail(`--${name} must be a comma-separated list of token ids, got '${s}'`);
  }
  return parts.map(Number);
}

/** @param {string} path @param {string} what */
async function readModelFile(path, what = 'model') {
  try {
    return await readFile(path);
  } catch (e) {
    return fail(`cannot read ${what} '${path}': ${/** @type {Error} */ (e).message}`, 1);
  }
}

/** Standard input exactly as bytes: no decoding, trimming or newline handling.
 * @returns {Promise<Buffer>} */
async function readStdinBytes() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(/** @type {Buffer} */ (chunk));
  return Buffer.concat(chunks);
}

async function tokenize(/** @type {string[]} */ argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, stdin: { type: 'boolean' }, text: { type: 'string' },
      'add-special': { type: 'boolean' }, 'parse-special': { type: 'boolean' }, json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.model) fail('--model FILE is required');
  if (!!values.stdin === (values.text !== undefined)) fail('give exactly one of --stdin or --text STRING');
  const file = await readModelFile(values.model);
  const input = values.stdin ? await readStdinBytes() : Buffer.from(/** @type {string} */ (values.text), 'utf8');
  const engine = await Engine.create();
  const tok = engine.loadTokenizer(/** @type {Uint8Array} */ (file));
  const t0 = performance.now();
  const ids = tok.tokenize(new Uint8Array(input.buffer, input.byteOffset, input.length), {
    addSpecial: !!values['add-special'], parseSpecial: !!values['parse-special'],
  });
  const ms = performance.now() - t0;
  const tokens = Array.from(ids);
  const { kind, pre, n_tokens: nVocab, bos, eos, add_bos: addBos, add_eos: addEos, warning } = tok.info;
  tok.free();
  if (values.json) {
    process.stdout.write(JSON.stringify({
      tokens, n_tokens: tokens.length, n_bytes: input.length,
      add_special: !!values['add-special'], parse_special: !!values['parse-special'],
      tokenizer: { kind, pre, n_vocab: nVocab, bos, eos, add_bos: addBos, add_eos: addEos, warning },
      engine: `wasm-${engine.variant} ${engine.version}`, tokenize_ms: +ms.toFixed(3),
    }) + '\n');
  } else {
    process.stdout.write(`${tokens.join(' ')}\n`);
  }
}

async function detokenize(/** @type {string[]} */ argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, tokens: { type: 'string' }, 'render-special': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.model) fail('--model FILE is required');
  if (!values.tokens) fail('--tokens is required');
  const ids = parseTokens(values.tokens, 'tokens');
  const file = await readModelFile(values.model);
  const engine = await Engine.create();
  const tok = engine.loadTokenizer(/** @type {Uint8Array} */ (file));
  const text = tok.detokenize(ids, { renderSpecial: !!values['render-special'] });
  tok.free();
  if (values.json) process.stdout.write(JSON.stringify({ text, tokens: ids }) + '\n');
  else process.stdout.write(text);
}

async function generate(/** @type {string[]} */ argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, 'prompt-tokens': { type: 'string' }, 'max-tokens': { type: 'string' },
      temperature: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
      ctx: { type: 'string' }, batch: { type: 'string' }, 'ignore-eos': { type: 'boolean' },
      json: { type: 'boolean' }, 'top-k': { type: 'string' }, 'top-p': { type: 'string' },
      'min-p': { type: 'string' }, 'repeat-penalty': { type: 'string' },
      'frequency-penalty': { type: 'string' }, 'presence-penalty': { type: 'string' },
      'penalty-last-n': { type: 'string' }, 'kv-type': { type: 'string' },
    },
    strict: true,
  });
  /** @param {string} name @returns {number | undefined} a finite number, or undefined when absent */
  const numOpt = (name) => {
    const v = /** @type {Record<string, any>} */ (values)[name];
    if (v === undefined) return undefined;
    if (!Number.isFinite(Number(v))) fail(`--${name} must be a number, got '${v}'`);
    return Number(v);
  };
  if (!values.model) fail('--model FILE is required');
  if (!values['prompt-tokens']) fail('--prompt-tokens is required (text prompts come with the tokenizer)');
  const prompt = parseTokens(values['prompt-tokens']);
  const maxTokens = intOpt(values['max-tokens'], 'max-tokens', 32, 0);
  const threads = intOpt(values.threads, 'threads', 1, 1);
  const temperature = values.temperature === undefined ? 0 : Number(values.temperature);
  if (!Number.isFinite(temperature) || temperature < 0) fail(`--temperature must be a number >= 0`);

  const bytes = await readModelFile(values.model);
  const engine = await Engine.create({ variant: threads > 1 ? 'mt' : 'simd' });
  const model = engine.loadModel(/** @type {Uint8Array} */ (bytes));
  const session = model.createSession({
    nCtx: intOpt(values.ctx, 'ctx', 0, 1), nBatch: intOpt(values.batch, 'batch', 0, 1), threads,
    temperature, seed: intOpt(values.seed, 'seed', 0x5eed, 0), ignoreEos: !!values['ignore-eos'],
    topK: numOpt('top-k'), topP: numOpt('top-p'), minP: numOpt('min-p'),
    repeatPenalty: numOpt('repeat-penalty'), frequencyPenalty: numOpt('frequency-penalty'),
    presencePenalty: numOpt('presence-penalty'), penaltyLastN: numOpt('penalty-last-n'),
    kvType: kvTypeOpt(values['kv-type']),
  });
  const t0 = performance.now();
  session.decode(prompt);
  const t1 = performance.now();
  const tokens = [];
  while (tokens.length < maxTokens) {
    const tok = session.step();
    if (tok === null) break;
    tokens.push(tok);
  }
  const t2 = performance.now();
  session.free();
  model.free();
  engine.dispose();
  const result = {
    prompt_tokens: prompt,
    tokens,
    threads,
    engine: `wasm-${engine.variant} ${engine.version}`,
    model: model.info,
    prefill_ms: +(t1 - t0).toFixed(3),
    decode_ms: +(t2 - t1).toFixed(3),
    prefill_tok_s: +(prompt.length / ((t1 - t0) / 1e3)).toFixed(2),
    decode_tok_s: tokens.length ? +(tokens.length / ((t2 - t1) / 1e3)).toFixed(2) : 0,
  };
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(`${tokens.join(' ')}\n`);
}

/** @param {string | undefined} v @returns {'f16' | 'f32' | undefined} */
function kvTypeOpt(v) {
  if (v === undefined) return undefined;
  if (v !== 'f16' && v !== 'f32') fail(`--kv-type must be f16 or f32, got '${v}'`);
  return v;
}

async function bench(/** @type {string[]} */ argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, threads: { type: 'string' }, prompt: { type: 'string' },
      gen: { type: 'string' }, batch: { type: 'string' }, 'kv-type': { type: 'string' },
      repeat: { type: 'string' }, 'wasm-dir': { type: 'string' }, json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.model) fail('--model FILE is required');
  const threads = intOpt(values.threads, 'threads', 1, 1);
  const nPrompt = intOpt(values.prompt, 'prompt', 128, 1), nGen = intOpt(values.gen, 'gen', 128, 0);
  const repeat = intOpt(values.repeat, 'repeat', 1, 1);
  const kvType = kvTypeOpt(values['kv-type']) ?? 'f16';
  const t0 = performance.now();
  const bytes = await readModelFile(values.model);
  const variant = threads > 1 ? 'mt' : 'simd';
  const wasmDir = values['wasm-dir'];
  const engine = await Engine.create({ variant, ...(wasmDir ? { assetsBase: pathToFileURL(resolve(wasmDir) + '/') } : {}) });
  const model = engine.loadModel(/** @type {Uint8Array} */ (bytes));
  const nCtx = nPrompt + nGen + 1;
  const nBatch = intOpt(values.batch, 'batch', nPrompt, 1);
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
    for (let i = 0; i < nGen; i++) if (session.step() === null) throw new Error(`generation ended after ${i} tokens`);
    const c = performance.now();
    best = { prefill: Math.min(best.prefill, b - a), decode: Math.min(best.decode, c - b) };
  }
  session.free();
  const info = model.info;
  model.free();
  engine.dispose();
  const result = {
    model: values.model, engine: `wasm-${engine.variant} ${engine.version}`, threads, kv_type: kvType,
    n_prompt: nPrompt, n_gen: nGen, repeat,
    load_s: +loadS.toFixed(4),
    prefill_tok_s: +(nPrompt / (best.prefill / 1e3)).toFixed(2),
    decode_tok_s: nGen ? +(nGen / (best.decode / 1e3)).toFixed(2) : 0,
    peak_rss_mb: +(process.resourceUsage().maxRSS / 1024).toFixed(1),
    file_mb: +(bytes.length / 2 ** 20).toFixed(1),
    model_info: info,
  };
  if (values.json) process.stdout.write(JSON.stringify(result) + '\n');
  else process.stdout.write(`load ${result.load_s} s, prefill ${result.prefill_tok_s} tok/s, decode ${result.decode_tok_s} tok/s, peak RSS ${result.peak_rss_mb} MB\n`);
}

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'bench') return bench(rest);
  if (cmd === 'generate') return generate(rest);
  if (cmd === 'tokenize') return tokenize(rest);
  if (cmd === 'detokenize') return detokenize(rest);
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') return void process.stdout.write(USAGE + '\n');
  fail(cmd ? `unknown command '${cmd}'\n${USAGE}` : USAGE);
}

main().catch((e) => {
  process.stderr.write(`smallmind: ${e.code ? e.code + ': ' : ''}${e.message}\n`);
  process.exit(1);
});
