// package.test.js — the npm package's public API (SmallMind.load → SmallMindModel) under Node:
// every kind of source, the worker round trip, streaming, cancellation, stop strings, limits,
// queueing, typed errors for bad input, and option checks. The text it produces is checked against
// the low-level engine (engine.js), which the parity suites check against llama.cpp.

import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { openAsBlob } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { SmallMind, SmallMindError, LoadError, AbortError, TimeoutError } from '../../bindings/js/index.js';
import { StopMatcher } from '../../bindings/js/stop-strings.js';
import { expandSplitName } from '../../bindings/js/sources.js';
import { relaxedSimdSupported } from '../../bindings/js/wasm-loader.js';
import { writeRandomLlama, randomModelContent } from './support/random-model.js';
import { writeGguf, str } from '../../bindings/js/convert/gguf-writer.js';
import { startStaticServer, responses } from './support/browser.js';
import { writeSplitGguf } from './support/split-gguf.js';
import { sharedEngine, disposeEngines } from './support/engine-run.js';

const dir = await mkdtemp(join(tmpdir(), 'sm-package-'));
const modelPath = join(dir, 'model.gguf');
await writeRandomLlama(modelPath, { weightType: 'Q8_0', seed: 7 });
const modelBytes = new Uint8Array(await readFile(modelPath));
const splitParts = await writeSplitGguf(randomModelContent({ weightType: 'Q8_0', seed: 7 }).content, join(dir, 'split'), 3);
const server = await startStaticServer({ root: dir });

test.after(async () => {
  await server.close();
  await disposeEngines();
  await rm(dir, { recursive: true, force: true });
});

/** Greedy text from the low-level engine in this thread: the reference for the worker path.
 * @param {string} prompt @param {number} n */
async function referenceText(prompt, n) {
  const engine = await sharedEngine('simd');
  const model = engine.loadModel(modelBytes);
  const tok = /** @type {import('../../bindings/js/tokenizer.js').Tokenizer} */ (model.tokenizer);
  const s = model.createSession({ nCtx: 256, ignoreEos: true });
  s.decode(tok.tokenize(prompt, { addSpecial: true, parseSpecial: true }));
  const d = tok.createDecoder({ continuation: true });
  let text = '';
  const ids = [];
  for (let i = 0; i < n; i++) {
    const t = /** @type {number} */ (s.step());
    ids.push(t);
    text += d.push(t);
  }
  text += d.flush();
  d.free();
  s.free();
  model.free();
  return { text, ids };
}

const GREEDY = { maxTokens: 24, ignoreEos: true, temperature: 0 };

test('a model loads from every kind of source and generates the same text as the engine', async () => {
  const want = await referenceText('Once upon a time', GREEDY.maxTokens);
  assert.ok(want.text.length > 10, 'the reference produced text');
  server.route('/model.gguf', responses.bytes(modelBytes));
  const sources = {
    path: modelPath,
    fileUrl: pathToFileURL(modelPath),
    httpUrl: `${server.url}/model.gguf`,
    uint8array: modelBytes,
    arraybuffer: modelBytes.slice().buffer,
    blob: await openAsBlob(modelPath),
    response: await fetch(`${server.url}/model.gguf`),
    request: new Request(`${server.url}/model.gguf`),
  };
  for (const [kind, src] of Object.entries(sources)) {
    /** @type {{loaded: number, total: number | null}[]} */
    const progress = [];
    const model = await SmallMind.load(/** @type {any} */ (src), { threads: 1, onProgress: (p) => progress.push(p) });
    try {
      const info = model.info();
      assert.equal(info.architecture, 'llama', kind);
      assert.equal(info.fileSize, modelBytes.length, kind);
      assert.equal(info.engine.inWorker, true, kind);
      assert.equal(info.engine.variant, 'simd', kind);
      assert.ok(progress.length >= 1, `${kind}: progress reported`);
      assert.deepEqual(progress.at(-1), { loaded: modelBytes.length, total: modelBytes.length }, `${kind}: final progress`);
      for (let i = 1; i < progress.length; i++) assert.ok(progress[i].loaded >= progress[i - 1].loaded, `${kind}: progress only grows`);
      const { text, metrics } = await model.complete('Once upon a time', GREEDY);
      assert.equal(text, want.text, `${kind}: same text as the engine`);
      assert.equal(metrics.generatedTokens, GREEDY.maxTokens);
      assert.equal(metrics.stopReason, 'maxTokens');
    } finally {
      await model.dispose();
    }
  }
  // the caller's buffer is untouched (copied in pieces, never transferred away)
  assert.equal(modelBytes.length, (await readFile(modelPath)).length);
});

test('streaming: pieces add up to complete(); metrics are consistent; token-id prompts; info', async () => {
  const model = await SmallMind.load(modelPath, { threads: 1 });
  try {
    const pieces = [];
    /** @type {any} */
    let seen = null;
    const it = model.generate('Hello world', { ...GREEDY, onMetrics: (m) => { seen = m; } });
    for await (const p of it) pieces.push(p);
    const metrics = await it.metrics;
    assert.ok(pieces.length > 1 && pieces.every((p) => typeof p === 'string' && p.length > 0), 'several non-empty pieces');
    const whole = await model.complete('Hello world', GREEDY);
    assert.equal(pieces.join(''), whole.text);
    assert.deepEqual(seen, metrics, 'onMetrics gets the same metrics');
    const ids = await model.tokenize('Hello world', { addSpecial: true });
    assert.equal(metrics.promptTokens, ids.length);
    for (const k of ['timeToFirstTokenMs', 'prefillTokensPerSecond', 'decodeTokensPerSecond', 'totalMs', 'peakMemoryBytes']) {
      assert.ok(Number.isFinite(metrics[k]) && metrics[k] > 0, `${k} = ${metrics[k]}`);
    }
    assert.ok(metrics.totalMs >= metrics.timeToFirstTokenMs);
    // the same prompt as ids gives the same text
    const byIds = await model.complete(ids, GREEDY);
    assert.equal(byIds.text, whole.text);
    const engine = await sharedEngine('simd');
    const low = engine.loadModel(modelBytes);
    const lowTok = /** @type {import('../../bindings/js/tokenizer.js').Tokenizer} */ (low.tokenizer);
    assert.deepEqual(await model.tokenize('Hello world'), Array.from(lowTok.tokenize('Hello world')));
    assert.equal(await model.detokenize(ids), lowTok.detokenize(ids));
    low.free();
    const info = model.info();
    assert.equal(info.tokenizer?.kind, 'llama');
    assert.equal(info.vocabSize, 512);
    assert.ok(info.parameters > 1e6);
    assert.equal(typeof info.hasChatTemplate, 'boolean');
    assert.ok(info.weightTypes.Q8_0?.tensors > 0 && info.weightTypes.Q8_0.bytes > 1e6, JSON.stringify(info.weightTypes));
  } finally {
    await model.dispose();
  }
});

test('seeded sampling repeats; the threaded build gives the same tokens on 2 and 4 threads', async () => {
  const opts = { maxTokens: 20, ignoreEos: true, temperature: 0.9, topK: 40, topP: 0.95, seed: 1234 };
  const texts = [];
  for (const threads of [1, 2, 4, 1]) {
    const model = await SmallMind.load(modelPath, { threads });
    try {
      assert.equal(model.info().engine.threads, threads);
      assert.equal(model.info().engine.variant, threads > 1 ? 'mt' : 'simd');
      const r = await model.complete('Once', opts);
      assert.equal(r.metrics.seed, 1234);
      texts.push(r.text);
      const other = await model.complete('Once', { ...opts, seed: 99 });
      assert.notEqual(other.text, r.text, 'another seed differs');
    } finally {
      await model.dispose();
    }
  }
  assert.equal(texts.length, 4);
  for (const t of texts) assert.equal(t, texts[0], 'the same tokens on 1, 2 and 4 threads');
});

test('break stops a generation; an AbortSignal aborts within a step; the model stays usable', async () => {
  const model = await SmallMind.load(modelPath, { threads: 1 });
  try {
    let n = 0;
    for await (const _ of model.generate('Once', { maxTokens: 200, ignoreEos: true })) if (++n === 3) break;
    assert.equal(n, 3);
    const ac = new AbortController();
    const t0 = performance.now();
    let got = 0;
    await assert.rejects(async () => {
      for await (const _ of model.generate('Once', { maxTokens: 200, ignoreEos: true, signal: ac.signal })) {
        if (++got === 5) ac.abort();
      }
    }, (e) => e instanceof AbortError && e.name === 'AbortError');
    assert.ok(got >= 5 && got < 5 + 3, `stopped within a step of the abort (read ${got} pieces)`);
    assert.ok(performance.now() - t0 < 5000);
    // an already-aborted signal never starts
    await assert.rejects(model.complete('Once', { signal: AbortSignal.abort() }), { name: 'AbortError' });
    // still usable afterwards, and deterministic
    const a = await model.complete('Once', GREEDY);
    const b = await model.complete('Once', GREEDY);
    assert.equal(a.text, b.text);
  } finally {
    await model.dispose();
  }
});

test('maxDurationMs ends a generation with TimeoutError, not AbortError', async () => {
  const model = await SmallMind.load(modelPath, { threads: 1 });
  try {
    await assert.rejects(model.complete('Once', { maxTokens: 1e6, ignoreEos: true, contextSize: 256, maxDurationMs: 1 }),
      (e) => e instanceof TimeoutError && e.name === 'TimeoutError' && /maxDurationMs/.test(e.message));
  } finally {
    await model.dispose();
  }
});

test('stop strings: matched across pieces, never emitted', async () => {
  const m = new StopMatcher(['\n\n', 'END']);
  const out = [];
  for (const piece of ['Hello E', 'N', 'x and \n', '\nmore']) {
    const r = m.push(piece);
    out.push(r.emit);
    if (r.stopped) { out.push(`<${r.stopped}>`); break; }
  }
  assert.deepEqual(out, ['Hello ', '', 'ENx and ', '', '<\n\n>']);
  const m2 = new StopMatcher(['abc']);
  assert.deepEqual(m2.push('xab'), { emit: 'x', stopped: null });
  assert.equal(m2.flush(), 'ab', 'held text comes out at the end when no stop string followed');

  const model = await SmallMind.load(modelPath, { threads: 1 });
  try {
    const full = (await model.complete('Once upon a time', GREEDY)).text;
    const stop = full.slice(12, 16); // a stop string from the middle of the known continuation
    const cut = full.indexOf(stop);
    const r = await model.complete('Once upon a time', { ...GREEDY, stop: [stop, 'never-appears'] });
    assert.equal(r.text, full.slice(0, cut));
    assert.equal(r.metrics.stopReason, 'stop');
    assert.equal(r.metrics.stopString, stop);
  } finally {
    await model.dispose();
  }
});

test('two generate() calls on one model are queued in call order, never interleaved', async () => {
  const model = await SmallMind.load(modelPath, { threads: 1 });
  try {
    const a1 = (await model.complete('Once', GREEDY)).text;
    const b1 = (await model.complete('Hello', GREEDY)).text;
    /** @type {string[]} */
    const events = [];
    const run = async (/** @type {string} */ tag, /** @type {string} */ prompt) => {
      let s = '';
      for await (const p of model.generate(prompt, GREEDY)) { events.push(tag); s += p; }
      return s;
    };
    const [a2, b2] = await Promise.all([run('a', 'Once'), run('b', 'Hello')]);
    assert.equal(a2, a1);
    assert.equal(b2, b1);
    const firstB = events.indexOf('b');
    assert.ok(firstB > 0 && events.slice(firstB).every((e) => e === 'b'), 'all of a, then all of b');
  } finally {
    await model.dispose();
  }
});

test('disposed models and bad options give clear errors', async () => {
  const model = await SmallMind.load(modelPath, { threads: 1 });
  const bad = /** @type {[Record<string, any>, RegExp][]} */ ([
    [{ temperature: -1 }, /temperature/], [{ topP: 1.5 }, /topP/], [{ maxTokens: 0 }, /maxTokens/],
    [{ maxTokens: 1.5 }, /maxTokens/], [{ tempreature: 1 }, /unknown option 'tempreature'/],
    [{ stop: [1] }, /stop/], [{ stop: '' }, /stop/], [{ seed: -3 }, /seed/], [{ signal: {} }, /signal/],
  ]);
  for (const [opts, msg] of bad) assert.throws(() => model.generate('x', /** @type {any} */ (opts)), msg, JSON.stringify(opts));
  assert.throws(() => model.generate(/** @type {any} */ (42)), /prompt/);
  await assert.rejects(model.complete('x'.repeat(4000), { contextSize: 64 }), (e) => e instanceof SmallMindError && /context/.test(e.message));
  await model.dispose();
  await model.dispose();
  assert.throws(() => model.generate('x'), /disposed/);
  await assert.rejects(model.tokenize('x'), /disposed/);
  await assert.rejects(SmallMind.load(modelPath, /** @type {any} */ ({ thread: 2 })), /unknown load option 'thread'/);
  await assert.rejects(SmallMind.load(modelPath, /** @type {any} */ ({ relaxedSimd: 'yes' })), /'relaxedSimd' must be true or false/);
  // Node 20 cannot run the relaxed-SIMD build: asking for it is refused up front, not a compile error
  if (!relaxedSimdSupported()) {
    await assert.rejects(SmallMind.load(modelPath, { relaxedSimd: true }), /cannot run the relaxed-SIMD build/);
    const plain = await SmallMind.load(modelPath, { relaxedSimd: false, threads: 1 });
    assert.equal(plain.info().engine.relaxedSimd, false);
    await plain.dispose();
  }
  await assert.rejects(SmallMind.load(/** @type {any} */ (42)), /cannot read a model from number/);
});

test('bad downloads and files fail load() quickly with a typed LoadError', async () => {
  const html = '<!DOCTYPE html><html><body>Sign in</body></html>';
  server.route('/missing.gguf', responses.notFound());
  server.route('/page.gguf', responses.html(html));
  server.route('/cut.gguf', responses.truncated(modelBytes, { sent: 600_000 }));
  server.route('/huge.gguf', (_req, res) => {
    res.writeHead(200, { 'Content-Length': String(5 * 2 ** 30), 'Content-Type': 'application/octet-stream' });
    res.write(modelBytes.subarray(0, 1024));
  });
  const mamba = randomModelContent({ seed: 3 });
  mamba.content.metadata = [...mamba.content.metadata].map(([k, v]) => (k === 'general.architecture' ? [k, str('mamba')] : [k.replace(/^llama\./, 'mamba.'), v]));
  await writeGguf(join(dir, 'mamba.gguf'), mamba.content);
  await writeFile(join(dir, 'notes.txt'), 'just some text, not a model\n');
  await writeFile(join(dir, 'short.gguf'), modelBytes.subarray(0, modelBytes.length - 1000));

  /** @type {[any, string, RegExp][]} */
  const cases = [
    [`${server.url}/missing.gguf`, 'http', /HTTP 404/],
    [`${server.url}/page.gguf`, 'not-gguf', /HTML page/],
    [`${server.url}/cut.gguf`, 'network|truncated', /.+/],
    [`${server.url}/huge.gguf`, 'too-large', /GiB/],
    ['http://127.0.0.1:1/nothing.gguf', 'network', /cannot download/],
    [join(dir, 'mamba.gguf'), 'unsupported', /mamba/],
    [join(dir, 'notes.txt'), 'not-gguf', /not a GGUF file/],
    [join(dir, 'short.gguf'), 'truncated|format', /.+/],
    [join(dir, 'nope.gguf'), 'not-found', /no such file/],
    [dir, 'bad-source', /directory/],
    [new Uint8Array(3), 'not-gguf|truncated', /.+/],
  ];
  for (const [src, reasons, msg] of cases) {
    const t0 = performance.now();
    await assert.rejects(SmallMind.load(src, { threads: 1 }), (/** @type {any} */ e) => {
      assert.ok(e instanceof LoadError, `${src}: ${e.name}: ${e.message}`);
      assert.match(e.reason, new RegExp(`^(${reasons})$`), `${src}: reason ${e.reason} (${e.message})`);
      assert.match(e.message, msg, String(src));
      return true;
    });
    assert.ok(performance.now() - t0 < 10_000, `${src} failed quickly`);
  }
  const e404 = await SmallMind.load(`${server.url}/missing.gguf`).catch((e) => e);
  assert.equal(e404.httpStatus, 404);
});

test('aborting a load stops the download at once', async () => {
  server.route('/slow.gguf', responses.slow(modelBytes, { chunk: 16 * 1024, delayMs: 100 }));
  const ac = new AbortController();
  let progressed = 0;
  const t0 = performance.now();
  const p = SmallMind.load(`${server.url}/slow.gguf`, {
    signal: ac.signal, threads: 1,
    onProgress: () => { if (++progressed === 1) setTimeout(() => ac.abort(), 50); },
  });
  await assert.rejects(p, (e) => e instanceof AbortError);
  assert.ok(performance.now() - t0 < 3000, 'well before the ~10 s the slow download would take');
  await assert.rejects(SmallMind.load(modelPath, { signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('split GGUF files load from paths, URLs and bytes, with the text of the whole file', async () => {
  const want = (await referenceText('Once upon a time', GREEDY.maxTokens)).text;
  const parts = await Promise.all(splitParts.map((p) => readFile(p)));
  parts.forEach((bytes, i) => server.route(`/split-${i + 1}.gguf`, responses.bytes(bytes)));
  for (const [kind, src] of /** @type {[string, any][]} */ ([
    ['first part name expands', splitParts[0]],
    ['list of paths', splitParts],
    ['list of URLs', parts.map((_, i) => `${server.url}/split-${i + 1}.gguf`)],
    ['list of buffers', parts.map((b) => new Uint8Array(b))],
  ])) {
    const model = await SmallMind.load(src, { threads: 1 });
    try {
      assert.equal(model.info().fileSize, parts.reduce((s, b) => s + b.length, 0), kind);
      assert.equal((await model.complete('Once upon a time', GREEDY)).text, want, kind);
    } finally {
      await model.dispose();
    }
  }
  await assert.rejects(SmallMind.load([splitParts[0], splitParts[2]]), (e) => e instanceof LoadError && /part/.test(e.message));
  await assert.rejects(SmallMind.load([splitParts[1], splitParts[0], splitParts[2]]), (e) => e instanceof LoadError && /part/.test(e.message));
});

test('an unsupported architecture fails from the header, long before the download ends', async () => {
  const mamba = randomModelContent({ seed: 4 });
  mamba.content.metadata = [...mamba.content.metadata].map(([k, v]) => (k === 'general.architecture' ? [k, str('mamba')] : [k, v]));
  const path = join(dir, 'mamba-slow.gguf');
  await writeGguf(path, mamba.content);
  const bytes = new Uint8Array(await readFile(path));
  let sent = 0;
  const slow = responses.slow(bytes, { chunk: 16 * 1024, delayMs: 40 }); // ~4 s for the whole file
  server.route('/mamba-slow.gguf', (req, res, url) => {
    const write = res.write.bind(res);
    res.write = /** @type {any} */ ((/** @type {Uint8Array} */ c, /** @type {any[]} */ ...rest) => { sent += c.length; return write(c, ...rest); });
    return slow(req, res, url);
  });
  const t0 = performance.now();
  await assert.rejects(SmallMind.load(`${server.url}/mamba-slow.gguf`, { threads: 1 }),
    (e) => e instanceof LoadError && e.reason === 'unsupported' && /mamba/.test(e.message));
  const ms = performance.now() - t0;
  assert.ok(ms < 2000 && sent < bytes.length / 2, `failed after ${ms.toFixed(0)} ms and ${sent} of ${bytes.length} bytes`);
});

test('split files: a -00001-of-0000N name expands to all its parts', () => {
  assert.deepEqual(expandSplitName('/m/qwen-00001-of-00003.gguf'),
    ['/m/qwen-00001-of-00003.gguf', '/m/qwen-00002-of-00003.gguf', '/m/qwen-00003-of-00003.gguf']);
  assert.deepEqual(expandSplitName('https://h/x-00001-of-00002.gguf?download=1'),
    ['https://h/x-00001-of-00002.gguf?download=1', 'https://h/x-00002-of-00002.gguf?download=1']);
  assert.deepEqual(expandSplitName('/m/x-00002-of-00003.gguf'), ['/m/x-00002-of-00003.gguf']);
  assert.deepEqual(expandSplitName('/m/model.gguf'), ['/m/model.gguf']);
});

test('in-process engine (worker: false) gives the same text', async () => {
  const model = await SmallMind.load(modelPath, { threads: 1, worker: false });
  try {
    assert.equal(model.info().engine.inWorker, false);
    assert.equal((await model.complete('Once upon a time', GREEDY)).text, (await referenceText('Once upon a time', GREEDY.maxTokens)).text);
  } finally {
    await model.dispose();
  }
});
