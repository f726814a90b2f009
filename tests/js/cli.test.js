// The `smallmind generate` contract (relied on by outside checks): --model, --prompt-tokens,
// --max-tokens, --temperature 0, --json → one JSON object with prompt_tokens (as given) and
// tokens (generated ids); --threads N selects the thread count. Also: clear errors, exit codes.
// Then the other commands (bindings/js/cli/*.js) on a small random model: text prompts with stop
// strings and time limits, chat over piped input, inspect --json, evaluate --json against
// model.evaluate(), health's exit codes, convert (llama2.c -> GGUF, no overwrites), --help for each,
// and the bad-input table: every command × missing file, directory, text file, truncated model,
// bad flag, bad value → its exit code and one `smallmind: ` line on stderr, never a stack trace.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { SmallMind } from '../../bindings/js/index.js';
import { writeGguf } from '../../bindings/js/convert/gguf-writer.js';
import { randomModelContent, writeRandomLlama } from './support/random-model.js';
import { referenceGreedy, disposeReferenceLlama } from './support/llama-ref.js';
import { REPO } from './support/shared-data.js';

const CLI = join(REPO, 'bindings/js/cli.js');
const run = (/** @type {string[]} */ args) => promisify(execFile)(process.execPath, [CLI, ...args]);

/** @type {string} */ let dir;
/** @type {string} */ let model;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smallmind-cli-'));
  model = join(dir, 'q4km.gguf');
  await writeRandomLlama(model, { weightType: 'Q4_K_M', seed: 21 });
});
after(async () => {
  await disposeReferenceLlama();
  await rm(dir, { recursive: true, force: true });
});

test('generate --json prints prompt_tokens as given and llama.cpp\'s greedy tokens', async () => {
  const { stdout } = await run(['generate', '--model', model, '--prompt-tokens', '1,450,4,99',
    '--max-tokens', '12', '--temperature', '0', '--json', '--ignore-eos']);
  const out = JSON.parse(stdout);
  assert.deepEqual(out.prompt_tokens, [1, 450, 4, 99]);
  assert.equal(out.tokens.length, 12);
  const ref = await referenceGreedy(model, [1, 450, 4, 99], 12);
  // the first steps are far from near-ties for this seed (checked by parity tests in general)
  assert.deepEqual(out.tokens.slice(0, 6), ref.tokens.slice(0, 6));
  for (const k of ['threads', 'engine', 'model', 'prefill_ms', 'decode_ms', 'prefill_tok_s', 'decode_tok_s']) {
    assert.ok(k in out, `missing field ${k}`);
  }
});

test('--threads 2 runs the threaded build and gives the same tokens', async () => {
  const args = ['generate', '--model', model, '--prompt-tokens', '1,2,3', '--max-tokens', '10', '--json', '--ignore-eos'];
  const one = JSON.parse((await run(args)).stdout);
  const two = JSON.parse((await run([...args, '--threads', '2'])).stdout);
  assert.equal(two.threads, 2);
  assert.match(two.engine, /wasm-mt/);
  assert.deepEqual(two.tokens, one.tokens);
});

test('bad input: clear messages and non-zero exit codes', async () => {
  const bad = join(dir, 'not-gguf.bin');
  await writeFile(bad, 'this is not a model');
  await assert.rejects(run(['generate', '--model', bad, '--prompt-tokens', '1', '--json']),
    (/** @type {any} */ e) => e.code === 1 && /SM_ERR_FORMAT/.test(e.stderr) && /magic/i.test(e.stderr));
  await assert.rejects(run(['generate', '--model', join(dir, 'missing.gguf'), '--prompt-tokens', '1']),
    (/** @type {any} */ e) => e.code === 1 && /cannot read model/.test(e.stderr));
  await assert.rejects(run(['generate', '--model', model, '--prompt-tokens', '1,x']),
    (/** @type {any} */ e) => e.code === 2 && /--prompt-tokens/.test(e.stderr));
  await assert.rejects(run(['generate', '--model', model, '--prompt-tokens', '1,999999', '--json']),
    (/** @type {any} */ e) => e.code === 1 && /outside the vocabulary/.test(e.stderr));
  await assert.rejects(run(['frobnicate']), (/** @type {any} */ e) => e.code === 2 && /unknown command/.test(e.stderr));
});

test('sampling options: seeded runs repeat exactly, across the single- and multi-thread builds', async () => {
  const args = ['generate', '--model', model, '--prompt-tokens', '1,2,3', '--max-tokens', '24', '--json', '--ignore-eos',
    '--temperature', '0.9', '--top-k', '40', '--top-p', '0.95', '--min-p', '0.02', '--repeat-penalty', '1.1',
    '--seed', '7'];
  const a = JSON.parse((await run(args)).stdout);
  const b = JSON.parse((await run(args)).stdout);
  const c = JSON.parse((await run([...args, '--threads', '2'])).stdout);
  assert.deepEqual(b.tokens, a.tokens);
  assert.deepEqual(c.tokens, a.tokens, 'the thread count does not change sampled tokens');
  const other = JSON.parse((await run([...args.slice(0, -1), '8'])).stdout);
  assert.notDeepEqual(other.tokens, a.tokens, 'another seed samples differently');
  await assert.rejects(run(['generate', '--model', model, '--prompt-tokens', '1', '--top-p', '1.5']),
    (/** @type {any} */ e) => e.code === 1 && /top_p/.test(e.stderr));
});

test('bench --json prints load_s, prefill_tok_s, decode_tok_s and peak_rss_mb (1 and 2 threads)', async () => {
  for (const threads of ['1', '2']) {
    const { stdout } = await run(['bench', '--model', model, '--threads', threads, '--prompt', '16', '--gen', '8', '--json']);
    const out = JSON.parse(stdout);
    for (const k of ['load_s', 'prefill_tok_s', 'decode_tok_s', 'peak_rss_mb']) {
      assert.equal(typeof out[k], 'number', `${k} is a number`);
      assert.ok(out[k] > 0, `${k} > 0`);
    }
    assert.equal(out.threads, Number(threads));
    assert.equal(out.n_prompt, 16);
    assert.equal(out.n_gen, 8);
    assert.equal(out.kv_type, 'f16');
    // the KV cache of a 16 + 8 + 1 context, from the model's shape: K and V, F16, every layer
    const mi = out.model_info;
    const kvMb = (mi.n_layer * 2 * 25 * (mi.n_embd / mi.n_head) * mi.n_head_kv * 2) / 2 ** 20;
    assert.ok(Math.abs(out.kv_cache_mb - kvMb) <= 0.0005, `kv_cache_mb ${out.kv_cache_mb} vs ${kvMb}`);
    const ratio = out.peak_rss_mb / (Number(mi.file_bytes) / 2 ** 20 + kvMb);
    assert.ok(Math.abs(out.peak_vs_file_kv / ratio - 1) < 1e-3, `peak_vs_file_kv ${out.peak_vs_file_kv} vs ${ratio}`);
  }
  await assert.rejects(run(['bench', '--model', model, '--kv-type', 'q8']),
    (/** @type {any} */ e) => e.code === 2 && /--kv-type/.test(e.stderr));
});

test('generate --kv-type f32 and f16 both run; f32 matches llama.cpp\'s F32 cache on the first steps', async () => {
  const args = ['generate', '--model', model, '--prompt-tokens', '1,450,4,99', '--max-tokens', '6', '--json', '--ignore-eos'];
  const f32 = JSON.parse((await run([...args, '--kv-type', 'f32'])).stdout);
  const f16 = JSON.parse((await run([...args, '--kv-type', 'f16'])).stdout);
  const ref = await referenceGreedy(model, [1, 450, 4, 99], 6);
  assert.deepEqual(f32.tokens, ref.tokens);
  assert.equal(f16.tokens.length, 6);
});

// ---- the other commands: chat, inspect, evaluate, health, convert; help, bad input, exit codes --

/**
 * Runs the CLI to completion, never rejecting.
 * @param {string[]} args @param {{stdin?: string, env?: Record<string, string>}} [opts]
 * @returns {Promise<{code: number | null, signal: string | null, stdout: string, stderr: string}>}
 */
function cli(args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...opts.env } });
    const out = [], err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Runs `fn` over `items` with at most `n` at a time (2 shared cores). @template T, R
 * @param {T[]} items @param {number} n @param {(x: T) => Promise<R>} fn @returns {Promise<R[]>} */
async function pool(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) { const i = next++; out[i] = await fn(items[i]); }
  }));
  return out;
}

/** A failure as the CLI promises it: the exit code, one `smallmind: ` line on stderr, no stack.
 * @param {{code: number | null, stderr: string}} r @param {number} code @param {string} what */
function assertOneLine(r, code, what) {
  assert.equal(r.code, code, `${what}: exit code ${r.code}, stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0], /^smallmind: \S/, what);
  assert.doesNotMatch(r.stderr, /\n\s+at |Error:|node:internal/, `${what}: no stack trace`);
}

/** A small text for evaluate: words from a fixed list, deterministic. */
function evalText() {
  const words = 'the cat sat on a mat and then it ran away from a dog who was very big'.split(' ');
  let s = 7;
  return Array.from({ length: 300 }, () => { s = (s * 1103515245 + 12345) >>> 0; return words[s % words.length]; }).join(' ');
}

/** A legacy llama2.c checkpoint with random weights (header + float32 tensors, tied classifier).
 * @param {{dim: number, hidden: number, layers: number, heads: number, vocab: number, seq: number}} c */
function llama2cCheckpoint(c) {
  const head = c.dim / c.heads;
  const n = c.vocab * c.dim + c.layers * (2 * c.dim + 4 * c.dim * c.dim + 3 * c.dim * c.hidden) + c.dim + 2 * c.seq * (head / 2);
  const buf = new ArrayBuffer(28 + 4 * n);
  new Int32Array(buf, 0, 7).set([c.dim, c.hidden, c.layers, c.heads, c.heads, c.vocab, c.seq]);
  const f = new Float32Array(buf, 28, n);
  let s = 3;
  for (let i = 0; i < n; i++) { s = (s * 1103515245 + 12345) >>> 0; f[i] = ((s >>> 8) / 2 ** 24 - 0.5) * 0.2; }
  return new Uint8Array(buf);
}

const COMMANDS = ['generate', 'chat', 'inspect', 'evaluate', 'health', 'bench', 'convert', 'tokenize', 'detokenize'];

test('--help: the top level lists every command and the exit codes; each command has its own', async () => {
  const top = await cli(['--help']);
  assert.equal(top.code, 0);
  for (const c of COMMANDS) assert.match(top.stdout, new RegExp(`^  ${c} `, 'm'), `--help lists ${c}`);
  for (const code of ['0', '1', '2', '3', '130']) assert.match(top.stdout, new RegExp(`^  ${code} `, 'm'), `--help documents exit code ${code}`);
  const helps = await pool(COMMANDS, 2, (c) => cli([c, '--help']));
  helps.forEach((r, i) => {
    assert.equal(r.code, 0, `${COMMANDS[i]} --help exits 0`);
    assert.match(r.stdout, new RegExp(`^usage: smallmind ${COMMANDS[i]} `), `${COMMANDS[i]} --help prints its usage`);
    assert.equal(r.stderr, '');
  });
  assert.match(helps[COMMANDS.indexOf('health')].stdout, /0 healthy, 3 degraded.*1 unhealthy/s);
  assert.equal((await cli(['help', 'chat'])).stdout, helps[COMMANDS.indexOf('chat')].stdout);
  const none = await cli([]);
  assert.equal(none.code, 2, 'no command is a usage error');
  assert.match(none.stderr, /^usage: smallmind <command>/);
});

test('generate --prompt TEXT: streams the text; --json adds text and stop_reason; --stop cuts before it; --max-duration-ms', async () => {
  const base = ['generate', '--model', model, '--prompt', 'Once upon a time', '--max-tokens', '24', '--ignore-eos'];
  const streamed = await cli(base);
  assert.equal(streamed.code, 0, streamed.stderr);
  const json = JSON.parse((await cli([...base, '--json'])).stdout);
  assert.equal(json.text, streamed.stdout, 'the streamed text is the generated text');
  assert.equal(json.tokens.length, 24);
  assert.equal(json.stop_reason, 'maxTokens');
  assert.equal(json.prompt, 'Once upon a time');
  const tok = JSON.parse((await cli(['tokenize', '--model', model, '--text', 'Once upon a time', '--add-special', '--parse-special', '--json'])).stdout);
  assert.deepEqual(json.prompt_tokens, tok.tokens, 'the prompt is tokenized as generate() does (BOS added)');
  for (const k of ['threads', 'engine', 'model', 'prefill_ms', 'decode_ms', 'prefill_tok_s', 'decode_tok_s']) assert.ok(k in json, k);

  // a stop string from the middle of that text: the output ends right before it
  const chars = [...json.text];
  const stop = chars.slice(Math.floor(chars.length / 2), Math.floor(chars.length / 2) + 2).join('');
  const cut = JSON.parse((await cli([...base, '--json', '--stop', stop])).stdout);
  assert.equal(cut.stop_reason, 'stop');
  assert.equal(cut.text, json.text.slice(0, json.text.indexOf(stop)));
  const cutStream = await cli([...base, '--stop', stop]);
  assert.equal(cutStream.stdout, cut.text, 'the stop string is never printed');

  const timed = JSON.parse((await cli([...base.slice(0, -3), '--max-tokens', '200', '--ignore-eos', '--max-duration-ms', '1', '--json'])).stdout);
  assert.equal(timed.stop_reason, 'maxDuration');
  assert.ok(timed.tokens.length < 200);
});

test('chat: piped input is answered line by line (text, and one JSON object per answer)', async () => {
  const args = ['chat', '--model', model, '--max-tokens', '8', '--ignore-eos', '--system', 'Be brief.'];
  const json = await cli([...args, '--json'], { stdin: 'Hello there\n\nHow are you?\n' });
  assert.equal(json.code, 0, json.stderr);
  const answers = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(answers.length, 2, 'two non-empty lines, two answers');
  for (const a of answers) {
    assert.equal(a.role, 'assistant');
    assert.equal(typeof a.content, 'string');
    assert.equal(a.metrics.generatedTokens, 8);
  }
  assert.ok(answers[1].metrics.promptTokens > answers[0].metrics.promptTokens, 'the second turn carries the first');
  const text = await cli(args, { stdin: 'Hello there\nHow are you?\n' });
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, `${answers[0].content}\n${answers[1].content}\n`, 'the same answers as text, each ending a line');
  assertOneLine(await cli([...args, '--top-p', '1.5'], { stdin: 'hi\n' }), 2, 'chat --top-p 1.5');
  assertOneLine(await cli([...args, '--chat-template', 'nonsense'], { stdin: 'hi\n' }), 2, 'chat --chat-template nonsense');
});

test('inspect --json: info, memory estimate, every metadata key and the tensor table', async () => {
  const r = await cli(['inspect', '--model', model, '--json', '--ctx', '128']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.info.architecture, 'llama');
  assert.equal(out.info.vocabSize, 512);
  assert.equal(out.memory.contextSize, 128);
  assert.equal(out.memory.total, out.memory.weights + out.memory.kvCache + out.memory.scratch);
  assert.equal(out.format.version, 3);
  const meta = Object.fromEntries(out.metadata.map((/** @type {any} */ m) => [m.key, m]));
  assert.deepEqual(meta['general.architecture'], { key: 'general.architecture', type: 'STRING', value: 'llama' });
  assert.equal(meta['llama.block_count'].value, 2);
  assert.equal(meta['llama.attention.layer_norm_rms_epsilon'].value, 1e-5);
  assert.equal(meta['tokenizer.ggml.tokens'].value.elementType, 'STRING');
  assert.equal(meta['tokenizer.ggml.tokens'].value.length, 512);
  assert.deepEqual(meta['tokenizer.ggml.tokens'].value.head.slice(0, 3), ['<unk>', '<s>', '</s>']);
  const embd = out.tensors.find((/** @type {any} */ t) => t.name === 'token_embd.weight');
  assert.deepEqual(embd.shape, [256, 512]);
  assert.equal(embd.type, 'Q4_K');
  // the tensor table adds up to the per-type totals of info()
  /** @type {Record<string, number>} */
  const byType = {};
  for (const t of out.tensors) byType[t.type] = (byType[t.type] ?? 0) + t.bytes;
  assert.deepEqual(byType, Object.fromEntries(Object.entries(out.info.weightTypes).map(([k, v]) => [k, /** @type {any} */ (v).bytes])));
  const human = await cli(['inspect', '--model', model]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, new RegExp(`^tensors \\(${out.tensors.length}\\)$`, 'm'));
  assert.match(human.stdout, /^ {2}memory +\S/m);
});

test('evaluate --json: the perplexity model.evaluate() gives; text output', async () => {
  const data = join(dir, 'eval.txt');
  await writeFile(data, evalText());
  const r = await cli(['evaluate', '--model', model, '--data', data, '--ctx', '64', '--stride', '32', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const m = await SmallMind.load(model, { threads: 1 });
  const ref = await m.evaluate(evalText(), { contextSize: 64, stride: 32 });
  await m.dispose();
  assert.equal(out.tokens, ref.tokens);
  assert.equal(out.windows, ref.windows);
  assert.ok(Math.abs(out.perplexity - ref.perplexity) <= 1e-9 * ref.perplexity, `${out.perplexity} vs ${ref.perplexity}`);
  assert.ok(Math.abs(out.crossEntropy - ref.crossEntropy) < 1e-12);
  const text = await cli(['evaluate', '--model', model, '--data', data, '--ctx', '64', '--stride', '32']);
  assert.match(text.stdout, new RegExp(`^perplexity ${ref.perplexity.toFixed(4)}, cross-entropy ${ref.crossEntropy.toFixed(5)} nats/token`));
  assertOneLine(await cli(['evaluate', '--model', model, '--data', model]), 1, 'evaluate --data <binary file>');
  assertOneLine(await cli(['evaluate', '--model', model, '--data', data, '--ctx', '8', '--stride', '8']), 2, 'evaluate --stride >= --ctx');
});

test('health: exit 0 healthy, 3 degraded (no tokenizer), 1 unhealthy (NaN weights, or no model at all)', async () => {
  const ok = await cli(['health', '--model', model, '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const h = JSON.parse(ok.stdout);
  assert.equal(h.status, 'healthy');
  assert.deepEqual(h.checks.map((/** @type {any} */ c) => c.name), ['load', 'weights', 'tokenizer', 'forward', 'logits']);
  assert.equal(ok.stderr, '');

  const { content } = randomModelContent({ weightType: 'F32', seed: 4 });
  const noTok = join(dir, 'no-tokenizer.gguf');
  await writeGguf(noTok, { ...content, metadata: content.metadata.filter((/** @type {any} */ [k]) => !k.startsWith('tokenizer.')) });
  const degraded = await cli(['health', '--model', noTok, '--json']);
  assert.equal(degraded.code, 3, degraded.stderr);
  assert.equal(JSON.parse(degraded.stdout).status, 'degraded');
  assertOneLine(degraded, 3, 'health, degraded');

  const out = content.tensors.find((/** @type {any} */ t) => t.name === 'output.weight');
  const bytes = typeof out.data === 'function' ? out.data() : out.data;
  const f = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  for (let i = 0; i < f.length; i += 97) f[i] = NaN;
  out.data = bytes;
  const nan = join(dir, 'nan.gguf');
  await writeGguf(nan, content);
  const bad = await cli(['health', '--model', nan, '--json']);
  assert.equal(JSON.parse(bad.stdout).status, 'unhealthy');
  assertOneLine(bad, 1, 'health, NaN logits');
  const human = await cli(['health', '--model', nan]);
  assert.match(human.stdout, /^unhealthy: /);
  assert.match(human.stdout, /^ {2}fail +logits /m);

  const missing = await cli(['health', '--model', join(dir, 'missing.gguf'), '--json']);
  assertOneLine(missing, 1, 'health, missing file');
  const report = JSON.parse(missing.stdout);
  assert.equal(report.status, 'unhealthy');
  assert.equal(report.checks[0].name, 'load');
  assert.equal(report.checks[0].status, 'fail');
});

test('bad input: every command, given a missing file, a directory, a text file or a truncated model, exits 1 with one line', async () => {
  const text = join(dir, 'notes.txt');
  await writeFile(text, 'just some text, not a model\n');
  const truncated = join(dir, 'truncated.gguf');
  await writeFile(truncated, (await readFile(model)).subarray(0, 600000));
  const header = join(dir, 'header-only.gguf');
  await writeFile(header, (await readFile(model)).subarray(0, 3000));
  const data = join(dir, 'eval.txt');
  await writeFile(data, evalText());
  /** @type {Record<string, string[]>} the rest of each command's arguments */
  const rest = {
    generate: ['--prompt-tokens', '1,2'], chat: [], inspect: [], evaluate: ['--data', data], health: [],
    bench: ['--prompt', '4', '--gen', '2'], tokenize: ['--text', 'hi'], detokenize: ['--tokens', '1,2'],
  };
  const files = { missing: join(dir, 'missing.gguf'), directory: dir, 'text file': text, 'truncated model': truncated, 'truncated header': header };
  const cases = Object.keys(rest).flatMap((c) => Object.entries(files).map(([what, f]) => ({ c, what, f })));
  const results = await pool(cases, 2, ({ c, f }) => cli([c, '--model', f, ...rest[c]], { stdin: 'hi\n' }));
  results.forEach((r, i) => {
    const { c, what } = cases[i];
    assertOneLine(r, 1, `${c} with a ${what}`);
    assert.match(r.stderr, what === 'missing' ? /no such file/ : what === 'directory' ? /directory/ : what === 'text file' ? /not a GGUF file/ : /truncat|out of range|runs past the end/, `${c} with a ${what}: ${r.stderr}`);
  });
  // and bad flags or values: exit 2, one line
  const usage = [
    ...Object.keys(rest).map((c) => [c, '--model', model, ...rest[c], '--no-such-flag']),
    ['generate', '--model', model, '--prompt-tokens', '1', '--max-tokens', 'many'],
    ['generate', '--model', model, '--prompt', 'hi', '--prompt-tokens', '1'],
    ['generate', '--model', model, '--prompt', 'hi', '--temperature', '-1'],
    ['generate', '--prompt', 'hi'],
    ['chat', '--model', model, '--max-tokens', '0'],
    ['inspect', '--model', model, '--ctx', 'x'],
    ['evaluate', '--model', model],
    ['health', '--model', model, '--max-forward-ms', '0'],
    ['bench', '--model', model, '--threads', '0'],
    ['convert', 'only-one-argument'],
    ['inspect', '--model', model, 'stray'],
    ['frobnicate'],
  ];
  const usageResults = await pool(usage, 2, (args) => cli(args, { stdin: 'hi\n' }));
  usageResults.forEach((r, i) => assertOneLine(r, 2, usage[i].join(' ')));
  // SMALLMIND_DEBUG=1 adds the stack
  const debug = await cli(['inspect', '--model', text], { env: { SMALLMIND_DEBUG: '1' } });
  assert.equal(debug.code, 1);
  assert.match(debug.stderr, /^smallmind: .*\n.*\n\s+at /s);
});

test('convert: llama2.c -> GGUF that loads; never over its input or an existing file; unknown formats fail clearly', async () => {
  const ckpt = join(dir, 'tiny.bin');
  await writeFile(ckpt, llama2cCheckpoint({ dim: 64, hidden: 128, layers: 1, heads: 4, vocab: 300, seq: 32 }));
  const out = join(dir, 'tiny.gguf');
  const r = await cli(['convert', ckpt, out, '--name', 'tiny', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.from, 'llama2c');
  assert.equal(res.to, 'gguf');
  assert.equal(res.bytes, (await stat(out)).size);
  const info = JSON.parse((await cli(['inspect', '--model', out, '--json'])).stdout);
  assert.equal(info.info.name, 'tiny');
  assert.equal(info.info.layers, 1);
  assert.equal(info.info.contextLength, 32);

  const before = await readFile(out);
  assertOneLine(await cli(['convert', ckpt, out]), 1, 'convert onto an existing file');
  assertOneLine(await cli(['convert', ckpt, ckpt, '--to', 'gguf', '--force']), 1, 'convert onto its input');
  assert.deepEqual(await readFile(out), before, 'the existing output is untouched');
  const f16 = await cli(['convert', ckpt, out, '--force', '--type', 'F16', '--json']);
  assert.equal(f16.code, 0, f16.stderr);
  assert.ok(JSON.parse(f16.stdout).bytes < before.length, 'F16 weights are smaller');
  assert.deepEqual((await readdir(dir)).filter((f) => f.includes('.tmp-')), [], 'no temporary file is left');

  const garbage = join(dir, 'garbage.bin');
  await writeFile(garbage, Buffer.alloc(4096, 7));
  assertOneLine(await cli(['convert', garbage, join(dir, 'g.gguf')]), 1, 'convert garbage');
  assert.ok(!existsSync(join(dir, 'g.gguf')), 'a failed conversion writes nothing');
  assertOneLine(await cli(['convert', ckpt, join(dir, 'x.out')]), 2, 'convert to an unknown extension');
  if (!existsSync(join(REPO, 'bindings/js/convert/index.js'))) {
    const smnd = await cli(['convert', model, join(dir, 'm.smnd')]);
    assertOneLine(smnd, 1, 'gguf -> smnd without the SMND converters');
    assert.match(smnd.stderr, /SMND converters/);
  }
});

test('progress: plain lines with SMALLMIND_PROGRESS=1 when stderr is not a terminal, nothing otherwise; Ctrl+C exits 130', async () => {
  const quiet = await cli(['inspect', '--model', model, '--json']);
  assert.equal(quiet.stderr, '');
  const lines = await cli(['inspect', '--model', model, '--json'], { env: { SMALLMIND_PROGRESS: '1' } });
  assert.equal(lines.code, 0);
  assert.match(lines.stderr, /^smallmind: loading q4km\.gguf: [\d.]+ KiB \/ [\d.]+ KiB$/m);

  // a long generation, interrupted once it has started printing
  const long = join(dir, 'long-ctx.gguf');
  await writeRandomLlama(long, { weightType: 'Q8_0', seed: 5, n_ctx: 8192 });
  const child = spawn(process.execPath, [CLI, 'generate', '--model', long, '--prompt', 'hi', '--max-tokens', '8000', '--ignore-eos', '--ctx', '8192']);
  let stderr = '';
  child.stderr.on('data', (c) => { stderr += c; });
  await new Promise((r) => child.stdout.once('data', r));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 130);
  assert.equal(stderr, 'smallmind: interrupted\n');
});
