// runtimes.test.js — the package on every JavaScript runtime it promises: Deno and Bun (their npm
// binaries in node_modules) and Cloudflare's workerd (the edge entry, bundled with esbuild, the
// model fetched from a local server or given as bytes). Each must produce exactly the text Node
// produces for the same model, prompt, options and seed. Chromium is browser-package.test.js.

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { SmallMind } from '../../bindings/js/index.js';
import { writeRandomLlama } from './support/random-model.js';
import { startStaticServer, responses } from './support/browser.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = (/** @type {string} */ name) => join(ROOT, 'node_modules/.bin', name);

const dir = await mkdtemp(join(tmpdir(), 'sm-runtimes-'));
const modelPath = join(dir, 'model.gguf');
await writeRandomLlama(modelPath, { weightType: 'Q4_K', seed: 11 });
const modelBytes = new Uint8Array(await readFile(modelPath));
const server = await startStaticServer({ root: dir });
server.route('/model.gguf', responses.bytes(modelBytes));
server.route('/missing.gguf', responses.notFound());
const modelUrl = `${server.url}/model.gguf`;

const PROMPT = 'Once upon a time';
const OPTIONS = { maxTokens: 16, temperature: 0.8, topK: 40, seed: 4242, ignoreEos: true };

/** Node's answer: the reference for the other runtimes. */
const node = await (async () => {
  const model = await SmallMind.load(modelPath, { threads: 1 });
  const r = await model.complete(PROMPT, OPTIONS);
  await model.dispose();
  return r.text;
})();

test.after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** @param {string} cmd @param {string[]} args */
async function runJson(cmd, args) {
  const { stdout } = await run(cmd, args, { cwd: ROOT, timeout: 120_000, maxBuffer: 16 * 2 ** 20 });
  const out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
  if (out.error) assert.fail(`${cmd}: ${out.error.name}: ${out.error.message}\n${out.error.stack}`);
  return out;
}

/** @param {{source: string, load?: Record<string, unknown>}} spec */
const spec = (s) => JSON.stringify({ prompt: PROMPT, options: OPTIONS, ...s });
const SCRIPT = join(ROOT, 'tests/js/fixtures/runtime-run.mjs');

/** Checks one run's output against Node's. @param {any} out @param {string} what */
function checkRun(out, what) {
  assert.ok(node.length > 0);
  assert.equal(out.text, node, `${what}: same text as Node`);
  assert.equal(out.streamed, node, `${what}: streamed pieces add up to the same text`);
  assert.equal(out.afterAbort, node, `${what}: still right after an aborted generation`);
  assert.equal(out.abortName, 'AbortError', `${what}: abort rejects with AbortError`);
  assert.equal(out.info.engine.inWorker, true, `${what}: engine off the calling thread`);
}

test('Deno: file path and URL, in a Web Worker; threads fall back to 1', async () => {
  const deno = [BIN('deno'), 'run', '--quiet', '--allow-read', '--allow-env', '--allow-net=127.0.0.1', SCRIPT];
  const byPath = await runJson(deno[0], [...deno.slice(1), spec({ source: modelPath, load: { threads: 2 } })]);
  checkRun(byPath, 'deno path');
  assert.equal(byPath.info.engine.runtime, 'deno');
  assert.equal(byPath.info.engine.threads, 1);
  const byUrl = await runJson(deno[0], [...deno.slice(1), spec({ source: modelUrl })]);
  checkRun(byUrl, 'deno url');
});

test('Bun: file path and URL, single-thread and threaded builds', async () => {
  for (const threads of [1, 2]) {
    const out = await runJson(BIN('bun'), [SCRIPT, spec({ source: modelPath, load: { threads } })]);
    checkRun(out, `bun threads=${threads}`);
    assert.equal(out.info.engine.runtime, 'bun');
    assert.equal(out.info.engine.threads, threads);
  }
  checkRun(await runJson(BIN('bun'), [SCRIPT, spec({ source: modelUrl })]), 'bun url');
});

/** @returns {Promise<number>} a port that was free a moment ago */
function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (s.address());
      s.close(() => ok(port));
    });
  });
}

test('workerd: the edge entry, in-process, model fetched or given as bytes', async () => {
  const out = join(dir, 'workerd');
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(ROOT, 'tests/js/fixtures/workerd-worker.js')], bundle: true, format: 'esm',
    platform: 'neutral', external: ['node:*', '*.wasm'], outfile: join(out, 'worker.mjs'), logLevel: 'warning',
  });
  await copyFile(join(ROOT, 'bindings/js/wasm/smallmind-simd.wasm'), join(out, 'smallmind-simd.wasm'));
  const port = await freePort();
  await writeFile(join(out, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const mainWorker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "worker.mjs"),
    (name = "smallmind-simd.wasm", wasm = embed "smallmind-simd.wasm"),
  ],
  compatibilityDate = "2024-09-23",
);
`);
  const proc = spawn(BIN('workerd'), ['serve', 'config.capnp'], { cwd: out, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  try {
    /** @param {Record<string, string>} q */
    const ask = async (q) => {
      const url = `http://127.0.0.1:${port}/?${new URLSearchParams({ prompt: PROMPT, opts: JSON.stringify(OPTIONS), ...q })}`;
      for (let i = 0; ; i++) {
        try {
          return await (await fetch(url)).json();
        } catch (e) {
          if (i > 100 || proc.exitCode !== null) throw new Error(`workerd did not answer: ${/** @type {Error} */ (e).message}\n${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    };
    for (const bytes of ['0', '1']) {
      const r = await ask({ model: modelUrl, bytes });
      if (r.error) assert.fail(`workerd: ${r.error.name}: ${r.error.message}\n${r.error.stack}`);
      assert.equal(r.text, node, `workerd (bytes=${bytes}): same text as Node`);
      assert.equal(r.streamed, node);
      assert.equal(r.info.engine.runtime, 'workerd');
      assert.equal(r.info.engine.variant, 'simd');
      assert.equal(r.info.engine.inWorker, false);
    }
    const bad = await ask({ model: `${server.url}/missing.gguf` });
    assert.equal(bad.error?.name, 'LoadError');
    assert.equal(bad.error?.reason, 'http');
  } finally {
    proc.kill();
  }
});
