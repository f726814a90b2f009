// browser-package.test.js — the npm package's public API (SmallMind.load → SmallMindModel) in
// headless Chromium: the threaded build in a crossOriginIsolated page and the single-thread
// fallback without COOP/COEP (the same text as Node), streaming, break, abort, a main thread that
// stays responsive while a 36 MB model loads and generates, the IndexedDB model cache end to end
// (hit, offline, corruption, aborted and truncated downloads, delete/clear, quota), typed errors for
// bad input, and an app bundled with esbuild that imports `smallmind` by its package name.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SmallMind } from '../../bindings/js/index.js';
import { writeRandomLlama } from './support/random-model.js';
import { REPO_ROOT, chromiumOrSkip, launchBrowser, responses, startStaticServer } from './support/browser.js';

const MiB = 2 ** 20;
const PAGE = '/__pkg-test/page.html';
const SMALL = '/__pkg-test/small.gguf';
const BIG = '/__pkg-test/big.gguf';

const dir = await mkdtemp(join(tmpdir(), 'sm-browser-package-'));
const smallPath = join(dir, 'small.gguf');
const bigPath = join(dir, 'big.gguf');
// small: 1.7 MB, for everything that checks behaviour; big: ~36 MB, for responsiveness and for
// cache writes that span several 8 MiB records
await writeRandomLlama(smallPath, { weightType: 'Q8_0', seed: 7 });
await writeRandomLlama(bigPath, { weightType: 'Q8_0', seed: 8, n_embd: 512, n_layer: 8, n_head: 8, n_ff: 2048 });
const smallBytes = new Uint8Array(await readFile(smallPath));
const bigBytes = new Uint8Array(await readFile(bigPath));

// Shared by every test page: the package as the browser imports it unbundled, an error describer,
// and raw access to the cache's IndexedDB database (names from bindings/js/cache.js).
const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>smallmind package test</title>
<script type="module">
import * as SM from '/bindings/js/index.js';
const DB = 'smallmind-models';
function describe(e) {
  return { name: e?.name, message: e?.message, reason: e?.reason, httpStatus: e?.httpStatus, code: e?.code,
    isLoadError: e instanceof SM.LoadError, isAbortError: e instanceof SM.AbortError, isSmallMindError: e instanceof SM.SmallMindError };
}
function withDb(fn) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const finish = (v) => { db.close(); resolve(v); };
      try { fn(db, finish, (e) => { db.close(); reject(e); }); } catch (e) { db.close(); reject(e); }
    };
  });
}
// what the database holds: entries, chunk records, writes in progress
function raw() {
  return withDb((db, done, fail) => {
    const out = { entries: [], chunks: [], writes: 0 };
    if (!db.objectStoreNames.contains('entries')) return done(out);
    const tx = db.transaction(['entries', 'chunks', 'writes'], 'readonly');
    const e = tx.objectStore('entries').getAll();
    e.onsuccess = () => { out.entries = e.result.map((x) => ({ key: x.key, writeId: x.writeId, size: x.size, chunks: x.chunks })); };
    const c = tx.objectStore('chunks').openKeyCursor();
    c.onsuccess = () => { const k = c.result; if (!k) return; out.chunks.push({ writeId: k.key[0], index: k.key[1] }); k.continue(); };
    const w = tx.objectStore('writes').count();
    w.onsuccess = () => { out.writes = w.result; };
    tx.oncomplete = () => done(out);
    tx.onerror = () => fail(tx.error);
  });
}
// flips one byte in the middle of record 'index' of the entry for 'key'
function corrupt(key, index = 0) {
  return withDb((db, done, fail) => {
    const tx = db.transaction(['entries', 'chunks'], 'readwrite');
    const r = tx.objectStore('entries').get(key);
    r.onsuccess = () => {
      const chunks = tx.objectStore('chunks');
      const ck = [r.result.writeId, index];
      const g = chunks.get(ck);
      g.onsuccess = () => {
        const u = new Uint8Array(g.result);
        u[u.length >> 1] ^= 0x5a;
        chunks.put(u.buffer, ck);
      };
    };
    tx.oncomplete = () => done(true);
    tx.onerror = () => fail(tx.error);
  });
}
window.T = { SM, SmallMind: SM.SmallMind, describe, raw, corrupt };
window.ready = true;
</script>`;

/** @param {import('./support/browser.js').StaticServer} s */
function addRoutes(s) {
  s.route(PAGE, responses.html(PAGE_HTML));
  s.route(SMALL, responses.bytes(smallBytes));
  s.route(BIG, responses.bytes(bigBytes));
}

const server = await startStaticServer();
addRoutes(server);
// the same files, but no cross-origin isolation: no SharedArrayBuffer for the page
const plainServer = await startStaticServer({ headers: { 'Cross-Origin-Opener-Policy': 'unsafe-none', 'Cross-Origin-Embedder-Policy': 'unsafe-none' } });
addRoutes(plainServer);

/** @type {Promise<import('./support/browser.js').TestBrowser> | undefined} */
let browserP;
/** @type {Promise<import('../../bindings/js/smallmind.js').SmallMindModel> | undefined} */
let nodeModelP;

after(async () => {
  await (await browserP?.catch(() => undefined))?.close();
  await (await nodeModelP?.catch(() => undefined))?.dispose();
  await server.close();
  await plainServer.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A fresh test page on `origin` (the isolated server's by default); null when the test was skipped.
 * @param {import('node:test').TestContext} t @param {string} [origin]
 */
async function openPage(t, origin = server.url) {
  if (!chromiumOrSkip(t)) return null;
  browserP ??= launchBrowser();
  const page = await (await browserP).newPage(origin + PAGE);
  await page.waitForFunction(() => /** @type {any} */ (window).ready === true);
  t.after(() => page.close());
  return page;
}

/** The text Node produces for the small model (worker_threads, single-thread build).
 * @param {string} prompt @param {Record<string, any>} opts */
async function nodeText(prompt, opts) {
  nodeModelP ??= SmallMind.load(smallPath, { threads: 1 });
  return (await (await nodeModelP).complete(prompt, opts)).text;
}

/** Console errors other than the browser's own report of a failed HTTP request (expected in tests
 * that serve 404s on purpose). @param {{errors: string[]}} page */
const unexpectedErrors = (page) => page.errors.filter((e) => !/Failed to load resource: the server responded with a status of 404/.test(e));

const SEEDED = { maxTokens: 32, ignoreEos: true, temperature: 0.8, topK: 40, topP: 0.95, seed: 42 };
const GREEDY = { maxTokens: 24, ignoreEos: true, temperature: 0 };
const PROMPT = 'Once upon a time';

test('isolated page: the threaded build, the same text as Node and as one thread; no COOP/COEP: single-thread fallback', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const run = ({ url, prompt, seeded, greedy }) => page.evaluate(async ({ url, prompt, seeded, greedy }) => {
    const { SmallMind } = /** @type {any} */ (window).T;
    const out = { isolated: crossOriginIsolated, cpus: navigator.hardwareConcurrency, runs: /** @type {any[]} */ ([]) };
    for (const opts of [{}, { threads: 1 }, { threads: 2 }, { threads: 4 }]) {
      const t0 = performance.now();
      const m = await SmallMind.load(url, opts);
      const loadMs = performance.now() - t0;
      const s = await m.complete(prompt, seeded);
      const g = await m.complete(prompt, greedy);
      out.runs.push({ opts, engine: m.info().engine, loadMs, seeded: s.text, greedy: g.text, seed: s.metrics.seed, threads: s.metrics.threads });
      await m.dispose();
    }
    return out;
  }, { url, prompt, seeded, greedy });
  const want = { seeded: await nodeText(PROMPT, SEEDED), greedy: await nodeText(PROMPT, GREEDY) };
  assert.ok(want.seeded.length > 10 && want.greedy.length > 10);

  const iso = await run({ url: SMALL, prompt: PROMPT, seeded: SEEDED, greedy: GREEDY });
  assert.equal(iso.isolated, true);
  const threads = Math.min(4, iso.cpus);
  assert.ok(threads >= 2, `this machine has ${iso.cpus} CPUs; the default needs 2 for the threaded build`);
  const [def, one, two, four] = iso.runs;
  assert.deepEqual([def.engine.variant, def.engine.threads, def.engine.runtime, def.engine.inWorker], ['mt', threads, 'browser', true]);
  assert.deepEqual([one.engine.variant, one.engine.threads], ['simd', 1]);
  assert.deepEqual([two.engine.variant, two.engine.threads], ['mt', 2]);
  assert.deepEqual([four.engine.variant, four.engine.threads], ['mt', 4]);
  assert.equal(def.threads, threads, 'metrics.threads');
  for (const r of iso.runs) {
    assert.equal(r.seeded, want.seeded, `${JSON.stringify(r.opts)}: seeded text as in Node`);
    assert.equal(r.greedy, want.greedy, `${JSON.stringify(r.opts)}: greedy text as in Node`);
    assert.equal(r.seed, SEEDED.seed);
  }
  assert.deepEqual(page.errors, []);

  const plainPage = /** @type {NonNullable<typeof page>} */ (await openPage(t, plainServer.url));
  const plain = await plainPage.evaluate(async ({ url, prompt, seeded }) => {
    const { SmallMind } = /** @type {any} */ (window).T;
    const out = { isolated: crossOriginIsolated, env: SmallMind.env, runs: /** @type {any[]} */ ([]) };
    for (const opts of [{}, { threads: 2 }]) {
      const m = await SmallMind.load(url, opts);
      out.runs.push({ engine: m.info().engine, text: (await m.complete(prompt, seeded)).text });
      await m.dispose();
    }
    return out;
  }, { url: SMALL, prompt: PROMPT, seeded: SEEDED });
  assert.equal(plain.isolated, false);
  assert.equal(plain.env.wasmThreads, false);
  for (const r of plain.runs) {
    assert.deepEqual([r.engine.variant, r.engine.threads], ['simd', 1], 'asking for 2 threads falls back to one');
    assert.equal(r.text, want.seeded);
  }
  assert.deepEqual(plainPage.errors, []);
  t.diagnostic(`load (small model, isolated page): default ${def.loadMs.toFixed(0)} ms, threads 1 ${one.loadMs.toFixed(0)} ms`);
});

test('streaming in the page: pieces, break after 3, abort within a step; the main thread stays responsive', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const r = await page.evaluate(async ({ small, big, greedy, prompt }) => {
    const { SmallMind, describe } = /** @type {any} */ (window).T;
    const m = await SmallMind.load(small);
    const pieces = [];
    const it = m.generate(prompt, greedy);
    for await (const p of it) pieces.push(p);
    const metrics = await it.metrics;
    const whole = (await m.complete(prompt, greedy)).text;
    let n = 0;
    for await (const _ of m.generate(prompt, { maxTokens: 200, ignoreEos: true })) if (++n === 3) break;
    const afterBreak = (await m.complete(prompt, greedy)).text;
    const ac = new AbortController();
    let got = 0, abortedAt = 0;
    const abortErr = await (async () => {
      for await (const _ of m.generate(prompt, { maxTokens: 200, ignoreEos: true, signal: ac.signal })) {
        if (++got === 5) { abortedAt = performance.now(); ac.abort(); }
      }
    })().then(() => null, describe);
    const abortMs = performance.now() - abortedAt;
    const afterAbort = (await m.complete(prompt, greedy)).text;
    await m.dispose();

    // responsiveness: the longest gap between 10 ms ticks while the big model loads and generates
    const gaps = { load: 0, generate: 0 };
    let phase = /** @type {'load' | 'generate'} */ ('load');
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps[phase] = Math.max(gaps[phase], now - last);
      last = now;
    }, 10);
    const t0 = performance.now();
    const bigModel = await SmallMind.load(big);
    const loadMs = performance.now() - t0;
    phase = 'generate';
    let tokens = 0;
    const bigIt = bigModel.generate(prompt, { maxTokens: 64, ignoreEos: true });
    for await (const _ of bigIt) tokens++;
    const bigMetrics = await bigIt.metrics;
    clearInterval(timer);
    const bigInfo = bigModel.info();
    await bigModel.dispose();
    return { pieces, metrics, whole, n, afterBreak, got, abortErr, abortMs, afterAbort, gaps, loadMs, tokens, bigMetrics, bigInfo };
  }, { small: SMALL, big: BIG, greedy: GREEDY, prompt: PROMPT });
  assert.ok(r.pieces.length > 1 && r.pieces.every((/** @type {unknown} */ p) => typeof p === 'string' && p.length > 0));
  assert.equal(r.pieces.join(''), r.whole, 'streamed pieces add up to complete()');
  assert.equal(r.whole, await nodeText(PROMPT, GREEDY));
  assert.equal(r.metrics.generatedTokens, GREEDY.maxTokens);
  assert.equal(r.n, 3);
  assert.equal(r.afterBreak, r.whole, 'usable after break');
  assert.equal(r.abortErr?.name, 'AbortError');
  assert.ok(r.abortErr.isAbortError, 'an instance of the package\'s AbortError');
  assert.ok(r.got >= 5 && r.got < 5 + 3, `stopped within a step of the abort (read ${r.got} pieces)`);
  assert.ok(r.abortMs < 2000, `the abort took ${r.abortMs} ms`);
  assert.equal(r.afterAbort, r.whole, 'usable after an abort');

  assert.equal(r.bigInfo.fileSize, bigBytes.length);
  assert.ok(r.tokens > 0 && r.tokens <= 64, `${r.tokens} pieces (a piece can hold several tokens' bytes)`);
  assert.equal(r.bigMetrics.generatedTokens, 64);
  t.diagnostic(`big model (${(bigBytes.length / MiB).toFixed(1)} MiB, ${r.bigInfo.engine.variant} × ${r.bigInfo.engine.threads}): ` +
    `load ${r.loadMs.toFixed(0)} ms, decode ${r.bigMetrics.decodeTokensPerSecond.toFixed(1)} tok/s; ` +
    `longest main-thread gap: load ${r.gaps.load.toFixed(1)} ms, generate ${r.gaps.generate.toFixed(1)} ms; ` +
    `abort → AbortError ${r.abortMs.toFixed(1)} ms`);
  assert.ok(r.gaps.load < 200, `the page froze for ${r.gaps.load} ms during the load`);
  assert.ok(r.gaps.generate < 200, `the page froze for ${r.gaps.generate} ms during generation`);
  assert.deepEqual(page.errors, []);
});

test('cache (IndexedDB): stored, hit without network, offline, corruption detected, delete/clear', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const path = '/__pkg-test/cached.gguf';
  const url = server.url + path;
  let requests = 0;
  let offline = false;
  server.route(path, (req, res, u) => {
    requests++;
    return offline ? responses.notFound()(req, res, u) : responses.bytes(smallBytes)(req, res, u);
  });
  t.after(() => server.unroute(path));
  const want = await nodeText(PROMPT, SEEDED);
  /** @param {Record<string, any>} [opts] */
  const load = (opts = { cache: true }) => page.evaluate(async ({ path, opts, prompt, seeded }) => {
    const { SmallMind, describe } = /** @type {any} */ (window).T;
    try {
      const t0 = performance.now();
      const m = await SmallMind.load(path, opts);
      const loadMs = performance.now() - t0;
      const text = (await m.complete(prompt, seeded)).text;
      const info = m.info();
      await m.dispose();
      return { cache: info.cache, text, loadMs, list: await SmallMind.cache.list() };
    } catch (e) {
      return { error: describe(e) };
    }
  }, { path, opts, prompt: PROMPT, seeded: SEEDED });
  const raw = () => page.evaluate(() => /** @type {any} */ (window).T.raw());

  await page.evaluate(() => /** @type {any} */ (window).T.SmallMind.cache.clear());
  const first = await load();
  assert.equal(first.error, undefined, JSON.stringify(first.error));
  assert.equal(requests, 1);
  assert.equal(first.cache.enabled, true);
  assert.equal(first.cache.stored, true);
  assert.ok(!first.cache.hit);
  assert.equal(first.text, want);
  assert.equal(first.list.length, 1);
  assert.equal(first.list[0].url, url);
  assert.equal(first.list[0].size, smallBytes.length);
  assert.ok(Math.abs(first.list[0].storedAt - Date.now()) < 60_000);

  const second = await load();
  assert.equal(requests, 1, 'no request when the cache holds the model');
  assert.equal(second.cache.hit, true);
  assert.ok(!second.cache.stored);
  assert.equal(second.text, want);

  offline = true;
  const offlineRun = await load();
  assert.equal(requests, 1, 'no request, so a server that is gone does not matter');
  assert.equal(offlineRun.cache.hit, true);
  assert.equal(offlineRun.text, want);
  // cache: false ignores the entry (and so meets the 404)
  const bypass = await load({});
  assert.equal(bypass.error?.reason, 'http');
  assert.equal(requests, 2);
  offline = false;

  // a damaged record: detected by the checksum, deleted, downloaded and stored again
  await page.evaluate((u) => /** @type {any} */ (window).T.corrupt(u), url);
  const repaired = await load();
  assert.equal(repaired.error, undefined, JSON.stringify(repaired.error));
  assert.equal(requests, 3, 'downloaded again');
  assert.ok(!repaired.cache.hit);
  assert.match(repaired.cache.discarded ?? '', /damaged.*checksum mismatch/);
  assert.equal(repaired.cache.stored, true);
  assert.equal(repaired.text, want);
  const again = await load();
  assert.equal(again.cache.hit, true, 'the re-stored copy is good');
  assert.equal(requests, 3);
  const dbAfterRepair = await raw();
  assert.deepEqual(dbAfterRepair.entries.map((/** @type {any} */ e) => [e.key, e.size]), [[url, smallBytes.length]]);
  assert.equal(dbAfterRepair.chunks.length, dbAfterRepair.entries[0].chunks, 'the damaged copy\'s records are gone');

  // delete() and clear()
  const del = await page.evaluate(async (p) => {
    const { SmallMind } = /** @type {any} */ (window).T;
    return [await SmallMind.cache.delete(p), await SmallMind.cache.delete(p), (await SmallMind.cache.list()).length];
  }, path);
  assert.deepEqual(del, [true, false, 0], 'delete() takes a relative URL too');
  const afterDelete = await load();
  assert.equal(requests, 4, 'a deleted entry is downloaded again');
  assert.equal(afterDelete.cache.stored, true);
  const cleared = await page.evaluate(async () => {
    const { SmallMind, raw } = /** @type {any} */ (window).T;
    await SmallMind.cache.clear();
    return { list: await SmallMind.cache.list(), raw: await raw() };
  });
  assert.deepEqual(cleared.list, []);
  assert.deepEqual(cleared.raw, { entries: [], chunks: [], writes: 0 });
  t.diagnostic(`small model: download+store ${first.loadMs.toFixed(0)} ms, from the cache ${second.loadMs.toFixed(0)} ms`);
  assert.deepEqual(unexpectedErrors(page), []);
});

test('cache: an aborted or truncated download leaves no entry and no records; a quota failure still loads', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const slow = '/__pkg-test/slow-big.gguf';
  const cut = '/__pkg-test/cut-big.gguf';
  // ~36 MiB in 1 MiB pieces: several 8 MiB records are stored before the abort at 20 MiB
  server.route(slow, responses.slow(bigBytes, { chunk: MiB, delayMs: 15 }));
  server.route(cut, responses.truncated(bigBytes, { sent: 20 * MiB }));
  t.after(() => { server.unroute(slow); server.unroute(cut); });
  const r = await page.evaluate(async ({ slow, cut }) => {
    const { SmallMind, describe, raw } = /** @type {any} */ (window).T;
    await SmallMind.cache.clear();
    const ac = new AbortController();
    let loadedAtAbort = 0;
    const aborted = await SmallMind.load(slow, {
      cache: true, signal: ac.signal,
      onProgress: (/** @type {any} */ p) => { if (p.loaded >= 20 * 2 ** 20 && !ac.signal.aborted) { loadedAtAbort = p.loaded; ac.abort(); } },
    }).then(() => null, describe);
    const listAfterAbort = await SmallMind.cache.list();
    const truncated = await SmallMind.load(cut, { cache: true }).then(() => null, describe);
    const listAfterTruncated = await SmallMind.cache.list();
    // the aborted load's worker was terminated mid-write: its records are garbage once the
    // browser releases its Web Lock, and the next open of the cache collects them
    let db;
    for (let i = 0; i < 50; i++) {
      await SmallMind.cache.list();
      db = await raw();
      if (db.chunks.length === 0 && db.writes === 0) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return { aborted, loadedAtAbort, listAfterAbort, truncated, listAfterTruncated, db };
  }, { slow, cut });
  assert.equal(r.aborted?.name, 'AbortError');
  assert.ok(r.loadedAtAbort >= 20 * MiB && r.loadedAtAbort < bigBytes.length);
  assert.deepEqual(r.listAfterAbort, [], 'an aborted download is no cache entry');
  assert.ok(r.truncated?.isLoadError, JSON.stringify(r.truncated));
  assert.match(r.truncated.reason, /^(network|truncated)$/);
  assert.deepEqual(r.listAfterTruncated, [], 'a truncated download is no cache entry');
  assert.deepEqual(r.db, { entries: [], chunks: [], writes: 0 }, 'and none of their records is left');
  assert.deepEqual(page.errors, []);

  // quota: its own server, so its own origin with no usage yet; the quota lowered over CDP
  const qs = await startStaticServer();
  t.after(() => qs.close());
  addRoutes(qs);
  const qpage = /** @type {NonNullable<typeof page>} */ (await openPage(t, qs.url));
  const cdp = await qpage.context().newCDPSession(qpage);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: qs.url, quotaSize: 512 * 1024 });
  t.after(() => cdp.send('Storage.overrideQuotaForOrigin', { origin: qs.url }).catch(() => {}));
  const q = await qpage.evaluate(async ({ small, prompt, greedy }) => {
    const { SmallMind, describe, raw } = /** @type {any} */ (window).T;
    try {
      const m = await SmallMind.load(small, { cache: true });
      const text = (await m.complete(prompt, greedy)).text;
      const cache = m.info().cache;
      await m.dispose();
      return { cache, text, list: await SmallMind.cache.list(), db: await raw() };
    } catch (e) {
      return { error: describe(e) };
    }
  }, { small: SMALL, prompt: PROMPT, greedy: GREEDY });
  assert.equal(q.error, undefined, JSON.stringify(q.error));
  assert.equal(q.text, await nodeText(PROMPT, GREEDY), 'the model runs though it could not be stored');
  assert.equal(q.cache.enabled, true);
  assert.ok(!q.cache.stored);
  assert.equal(q.cache.error?.name, 'CacheQuotaError');
  assert.match(q.cache.error.message, /not enough storage to cache .*small\.gguf.*quota/);
  assert.deepEqual(q.list, []);
  assert.deepEqual(q.db, { entries: [], chunks: [], writes: 0 });
  assert.deepEqual(qpage.errors, []);
});

test('bad input in the browser: 404, an HTML page, a disposed model', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  server.route('/__pkg-test/missing.gguf', responses.notFound());
  server.route('/__pkg-test/login.gguf', responses.html('<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>'));
  t.after(() => { server.unroute('/__pkg-test/missing.gguf'); server.unroute('/__pkg-test/login.gguf'); });
  const r = await page.evaluate(async ({ small }) => {
    const { SmallMind, describe } = /** @type {any} */ (window).T;
    const timed = async (/** @type {() => Promise<unknown>} */ fn) => {
      const t0 = performance.now();
      const error = await fn().then(() => null, describe);
      return { error, ms: performance.now() - t0 };
    };
    const missing = await timed(() => SmallMind.load('/__pkg-test/missing.gguf', { cache: true }));
    const html = await timed(() => SmallMind.load('/__pkg-test/login.gguf', { cache: true }));
    const list = await SmallMind.cache.list();
    const m = await SmallMind.load(small);
    await m.dispose();
    let generate = null;
    try { m.generate('x'); } catch (e) { generate = describe(e); }
    const complete = await m.complete('x').then(() => null, describe);
    const tokenize = await m.tokenize('x').then(() => null, describe);
    return { missing, html, list, generate, complete, tokenize };
  }, { small: SMALL });
  assert.ok(r.missing.error?.isLoadError, JSON.stringify(r.missing.error));
  assert.equal(r.missing.error.name, 'LoadError');
  assert.equal(r.missing.error.reason, 'http');
  assert.equal(r.missing.error.httpStatus, 404);
  assert.match(r.missing.error.message, /HTTP 404/);
  assert.ok(r.html.error?.isLoadError, JSON.stringify(r.html.error));
  assert.equal(r.html.error.reason, 'not-gguf');
  assert.match(r.html.error.message, /HTML/);
  for (const c of [r.missing, r.html]) assert.ok(c.ms < 5000, `failed in ${c.ms} ms`);
  assert.deepEqual(r.list, [], 'failed loads leave no cache entry');
  for (const e of [r.generate, r.complete, r.tokenize]) {
    assert.ok(e?.isSmallMindError, JSON.stringify(e));
    assert.match(e.message, /disposed/);
  }
  assert.deepEqual(unexpectedErrors(page), []);
});

test('an app bundled with esbuild imports `smallmind` by name and runs unchanged in Chromium', async (t) => {
  if (!chromiumOrSkip(t)) return;
  const esbuild = await import('esbuild');
  // a user's project: the app, and the package installed as node_modules/smallmind (this repo)
  const proj = await mkdtemp(join(tmpdir(), 'sm-esbuild-app-'));
  t.after(() => rm(proj, { recursive: true, force: true }));
  const fixture = join(REPO_ROOT, 'tests/js/fixtures/esbuild-app');
  await cp(join(fixture, 'app.js'), join(proj, 'app.js'));
  await mkdir(join(proj, 'node_modules'));
  await symlink(REPO_ROOT, join(proj, 'node_modules', 'smallmind'), 'dir');
  const dist = join(proj, 'dist');
  const built = await esbuild.build({
    entryPoints: [join(proj, 'app.js')], bundle: true, format: 'esm', platform: 'browser', target: 'es2022',
    outfile: join(dist, 'app.js'), logLevel: 'silent', metafile: true,
  });
  assert.deepEqual(built.errors, []);
  assert.deepEqual(built.warnings.map((w) => w.text), []);
  const inputs = Object.keys(/** @type {import('esbuild').Metafile} */ (built.metafile).inputs);
  assert.ok(inputs.some((p) => p.endsWith('bindings/js/smallmind.js')), 'the package was bundled');
  // the page and the package's assets beside the bundle: nothing else is served
  await cp(join(fixture, 'index.html'), join(dist, 'index.html'));
  await cp(join(REPO_ROOT, 'bindings/js/wasm'), join(dist, 'wasm'), { recursive: true });
  const app = await startStaticServer({ root: dist });
  t.after(() => app.close());
  app.route('/models/m.gguf', responses.bytes(smallBytes));

  browserP ??= launchBrowser();
  const page = await (await browserP).newPage(`${app.url}/index.html?model=models/m.gguf`);
  t.after(() => page.close());
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', undefined, { timeout: 30_000 });
  const r = await page.evaluate(() => ({
    state: document.body.dataset.state, options: JSON.parse(document.body.dataset.options ?? '{}'),
    text: document.getElementById('out')?.textContent, engine: document.getElementById('engine')?.textContent,
    progress: document.getElementById('progress')?.textContent, error: document.getElementById('error')?.textContent,
  }));
  assert.equal(r.state, 'done', r.error);
  const { prompt, ...opts } = r.options;
  assert.equal(opts.seed, 42);
  assert.equal(r.text, await nodeText(prompt, opts), 'the bundled app writes the same text as Node');
  assert.ok(/** @type {string} */ (r.text).length > 10);
  assert.match(/** @type {string} */ (r.engine), /^mt \d+$/, 'the threaded build (the page is crossOriginIsolated)');
  assert.equal(r.progress, '100%');
  assert.deepEqual(page.errors, []);
});
