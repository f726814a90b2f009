// The `smallmind generate` contract (relied on by outside checks): --model, --prompt-tokens,
// --max-tokens, --temperature 0, --json → one JSON object with prompt_tokens (as given) and
// tokens (generated ids); --threads N selects the thread count. Also: clear errors, exit codes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { writeRandomLlama } from './support/random-model.js';
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
