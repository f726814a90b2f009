#!/usr/bin/env node
// cli.js — the `smallmind` command line (runs the WASM build under Node).
//
//   smallmind generate --model FILE --prompt-tokens 1,450,4996 --max-tokens 32 --temperature 0 --json
//
// Contract relied on by tests and outside checks: with --json, prints one JSON object with at least
// `prompt_tokens` (ids fed, exactly as given) and `tokens` (generated ids). --threads N selects
// the thread count (N > 1 runs the pthreads build). Greedy decoding at temperature 0, no penalties.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Engine } from './engine.js';

const USAGE = `usage: smallmind generate --model FILE --prompt-tokens 1,2,3 [options]
  --max-tokens N     tokens to generate (default 32)
  --temperature T    0 = greedy (default 0)
  --seed S           sampler seed (default 24301)
  --threads N        worker threads (default 1; N > 1 uses the threaded WASM build)
  --ctx N            context window (default: min(training context, 4096))
  --batch N          prompt batch size (default 64)
  --ignore-eos       keep generating past end-of-generation tokens
  --json             print one JSON object`;

/** @param {string} msg */
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

/** @param {string} s */
function parseTokens(s) {
  const parts = s.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (!parts.length || parts.some((p) => !/^\d+$/.test(p))) {
    fail(`--prompt-tokens must be a comma-separated list of token ids, got '${s}'`);
  }
  return parts.map(Number);
}

async function generate(/** @type {string[]} */ argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' }, 'prompt-tokens': { type: 'string' }, 'max-tokens': { type: 'string' },
      temperature: { type: 'string' }, seed: { type: 'string' }, threads: { type: 'string' },
      ctx: { type: 'string' }, batch: { type: 'string' }, 'ignore-eos': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.model) fail('--model FILE is required');
  if (!values['prompt-tokens']) fail('--prompt-tokens is required (text prompts come with the tokenizer)');
  const prompt = parseTokens(values['prompt-tokens']);
  const maxTokens = intOpt(values['max-tokens'], 'max-tokens', 32, 0);
  const threads = intOpt(values.threads, 'threads', 1, 1);
  const temperature = values.temperature === undefined ? 0 : Number(values.temperature);
  if (!Number.isFinite(temperature) || temperature < 0) fail(`--temperature must be a number >= 0`);

  let bytes;
  try {
    bytes = await readFile(values.model);
  } catch (e) {
    fail(`cannot read model '${values.model}': ${/** @type {Error} */ (e).message}`, 1);
  }
  const engine = await Engine.create({ variant: threads > 1 ? 'mt' : 'simd' });
  const model = engine.loadModel(/** @type {Uint8Array} */ (bytes));
  const session = model.createSession({
    nCtx: intOpt(values.ctx, 'ctx', 0, 1), nBatch: intOpt(values.batch, 'batch', 0, 1), threads,
    temperature, seed: intOpt(values.seed, 'seed', 0x5eed, 0), ignoreEos: !!values['ignore-eos'],
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

async function main() {
  const [cmd, ...rest] = process.argv.slice(2);
  if (cmd === 'generate') return generate(rest);
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') return void process.stdout.write(USAGE + '\n');
  fail(cmd ? `unknown command '${cmd}'\n${USAGE}` : USAGE);
}

main().catch((e) => {
  process.stderr.write(`smallmind: ${e.code ? e.code + ': ' : ''}${e.message}\n`);
  process.exit(1);
});
