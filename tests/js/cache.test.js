// The browser model cache (bindings/js/cache.js) in headless Chromium, from a page and from a
// dedicated module Worker: round trips, atomic commit and replacement, abandoned writes being
// invisible and collected, quota failures leaving nothing behind. Also the test server of
// support/browser.js itself: isolation headers, MIME types, ranges, traversal, failure routes.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CacheError, CacheQuotaError, isCacheAvailable, openModelCache } from '../../bindings/js/cache.js';
import { REPO_ROOT, chromiumOrSkip, launchBrowser, responses, startStaticServer } from './support/browser.js';

const MiB = 2 ** 20;
const PAGE = '/__cache-test/page.html';
const WORKER = '/__cache-test/worker.js';

// Helpers shared by the test page and its worker (served as text, so plain JS only).
const HELPERS = String.raw`
const MiB = 2 ** 20;
// deterministic pseudo-random bytes (xorshift32)
function fill(n, seed) {
  const words = new Uint32Array(Math.ceil(n / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  return new Uint8Array(words.buffer, 0, n);
}
// uneven pieces, some far larger than a record, some tiny
const PIECES = [1, 3 * 65536 + 7, 5 * MiB + 3, 17 * MiB + 1, 12345, 999999, 3 * MiB];
async function writeAll(writer, data) {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(PIECES[i % PIECES.length], data.length - off);
    await writer.write(data.subarray(off, off + n));
    off += n;
  }
}
// reads key back and compares it with data; returns the sizes of the yielded chunks
async function verify(cache, key, data) {
  const sizes = [];
  let off = 0, equal = true;
  for await (const chunk of cache.read(key)) {
    sizes.push(chunk.length);
    if (off + chunk.length > data.length) { equal = false; break; }
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== data[off + i]) { equal = false; break; }
    off += chunk.length;
  }
  return { equal: equal && off === data.length, sizes };
}
// what the database holds, bypassing cache.js
function raw(dbName) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(dbName);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const out = { chunks: [], writes: [], entries: [] };
      const tx = db.transaction(['chunks', 'writes', 'entries'], 'readonly');
      const cur = tx.objectStore('chunks').openCursor();
      cur.onsuccess = () => {
        const c = cur.result;
        if (!c) return;
        out.chunks.push({ writeId: c.key[0], index: c.key[1], bytes: c.value.byteLength });
        c.continue();
      };
      const w = tx.objectStore('writes').getAll();
      w.onsuccess = () => { out.writes = w.result; };
      const e = tx.objectStore('entries').getAll();
      e.onsuccess = () => { out.entries = e.result.map((x) => ({ key: x.key, writeId: x.writeId, size: x.size })); };
      tx.oncomplete = () => { db.close(); resolve(out); };
      tx.onerror = () => reject(tx.error);
    };
  });
}
function describe(e) {
  return { name: e?.name, message: e?.message, isCacheError: e instanceof C.CacheError,
    isQuota: e instanceof C.CacheQuotaError, bytes: e?.bytes, quota: e?.quota, usage: e?.usage };
}
`;

const PAGE_HTML = `<!doctype html><meta charset="utf-8"><title>cache test</title>
<script type="module">
import * as C from '/bindings/js/cache.js';
${HELPERS}
window.T = { C, fill, writeAll, verify, raw, describe, MiB };
window.ready = true;
</script>`;

// The worker runs the scenario it is sent and posts the outcome back.
const WORKER_JS = `import * as C from '/bindings/js/cache.js';
${HELPERS}
let pending = null;
self.onmessage = async ({ data: m }) => {
  try {
    const cache = await C.openModelCache({ dbName: m.dbName });
    if (m.op === 'roundtrip') {
      const data = fill(m.size, m.seed);
      const w = await cache.beginWrite(m.key, { size: m.size });
      await writeAll(w, data);
      const before = await cache.lookup(m.key);
      const entry = await w.commit({ size: m.size, crc32: 7, meta: { from: 'worker' } });
      const v = await verify(cache, m.key, data);
      postMessage({ available: C.isCacheAvailable(), before, entry, ...v });
    } else if (m.op === 'write-no-commit') {
      pending = await cache.beginWrite(m.key);
      await writeAll(pending, fill(m.size, m.seed));
      postMessage({ written: pending.bytesWritten });
    }
  } catch (e) {
    postMessage({ error: describe(e) });
  }
};`;

/** @type {import('./support/browser.js').StaticServer} */
let server;
/** @type {Promise<import('./support/browser.js').TestBrowser> | undefined} */
let browserP;

/** @param {import('./support/browser.js').StaticServer} s */
function addTestRoutes(s) {
  s.route(PAGE, responses.html(PAGE_HTML));
  s.route(WORKER, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
    res.end(WORKER_JS);
  });
}

before(async () => {
  server = await startStaticServer();
  addTestRoutes(server);
});
after(async () => {
  await (await browserP?.catch(() => undefined))?.close();
  await server?.close();
});

/**
 * A fresh test page on `origin` (the shared server's by default); null when the test was skipped.
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

let dbCounter = 0;
const freshDb = () => `cache-test-${process.pid}-${++dbCounter}`;

/** Every record is at most 16 MiB, and all but the last are at least 8 MiB. @param {number[]} sizes */
function assertRecordSizes(sizes) {
  assert.ok(sizes.length > 0);
  for (const [i, n] of sizes.entries()) {
    assert.ok(n <= 16 * MiB, `record ${i} holds ${n} bytes, more than 16 MiB`);
    if (i < sizes.length - 1) assert.ok(n >= 8 * MiB, `record ${i} holds only ${n} bytes`);
  }
}

// -- without a browser -----------------------------------------------------------------------------

test('in Node (no IndexedDB) the cache is unavailable: openModelCache() resolves null', async () => {
  assert.equal(isCacheAvailable(), false);
  assert.equal(await openModelCache(), null);
  assert.equal(await openModelCache({ dbName: 'x', chunkBytes: 1 }), null, 'options are not even looked at');
  const q = new CacheQuotaError('full', { key: 'k', bytes: 5 });
  assert.ok(q instanceof CacheError);
  assert.equal(q.name, 'CacheQuotaError');
  assert.equal(new CacheError('x').name, 'CacheError');
});

/**
 * A raw HTTP request (fetch would normalise '..' away).
 * @param {string} url origin @param {string} path @param {Record<string, string>} [headers]
 * @returns {Promise<{status: number, headers: import('node:http').IncomingHttpHeaders, body: Buffer}>}
 */
function rawGet(url, path, headers = {}, method = 'GET') {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method, headers }, (res) => {
      /** @type {Buffer[]} */
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

test('static server: isolation headers, MIME types, ranges, HEAD, 404, traversal rejected', async () => {
  const root = await mkdtemp(join(tmpdir(), 'smallmind-static-'));
  const s = await startStaticServer({ root, headers: { 'X-Test': 'yes' } });
  try {
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 255));
    const types = {
      'a.js': 'text/javascript', 'b.mjs': 'text/javascript', 'c.wasm': 'application/wasm', 'd.html': 'text/html',
      'e.json': 'application/json', 'f.gguf': 'application/octet-stream', 'g.unknown': 'application/octet-stream',
    };
    for (const name of Object.keys(types)) await writeFile(join(root, name), body);
    for (const [name, type] of Object.entries(types)) {
      const res = await fetch(`${s.url}/${name}`);
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get('content-type')?.split(';')[0], type, name);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
      assert.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin');
      assert.equal(res.headers.get('x-test'), 'yes', 'extra headers are added');
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
    }

    /** @param {string} range @param {number} start @param {number} end */
    const expectRange = async (range, start, end) => {
      const res = await fetch(`${s.url}/f.gguf`, { headers: { Range: range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/1000`, range);
      assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), body.subarray(start, end + 1), range);
    };
    await expectRange('bytes=0-9', 0, 9);
    await expectRange('bytes=990-', 990, 999);
    await expectRange('bytes=-5', 995, 999);
    await expectRange('bytes=500-5000', 500, 999);
    const bad = await fetch(`${s.url}/f.gguf`, { headers: { Range: 'bytes=1000-' } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), 'bytes */1000');
    await bad.arrayBuffer();
    const head = await rawGet(s.url, '/f.gguf', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], '1000');
    assert.equal(head.headers['accept-ranges'], 'bytes');
    assert.equal(head.body.length, 0);
    assert.equal((await rawGet(s.url, '/missing.gguf')).status, 404);

    // a secret beside the served root must stay out of reach, however the '..' is spelled
    const secret = join(root, '..', `${root.split('/').pop()}-secret.txt`);
    await writeFile(secret, 'secret');
    try {
      const name = secret.split('/').pop();
      for (const path of [`/../${name}`, `/%2e%2e/${name}`, `/a/..%2f..%2f${name}`, `/..%5c${name}`, `/%2E%2E%2F${name}`]) {
        const res = await rawGet(s.url, path);
        assert.equal(res.status, 403, path);
        assert.ok(!res.body.toString().includes('secret'), path);
      }
      assert.equal((await rawGet(s.url, '/%E0%A4%A')).status, 400, 'undecodable path');
    } finally {
      await rm(secret, { force: true });
    }
  } finally {
    await s.close();
    await rm(root, { recursive: true, force: true });
  }
});

test('static server: the repo root by default; custom routes simulate failing downloads', async () => {
  const pkg = await fetch(`${server.url}/package.json`);
  assert.equal(pkg.status, 200);
  assert.equal((await pkg.json()).name, JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')).name);

  const s = await startStaticServer();
  try {
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) & 255);
    s.route('/404', responses.notFound());
    s.route('/login', responses.html());
    s.route('/model', responses.bytes(bytes));
    s.route('/cut', responses.truncated(bytes, { sent: 100_000 }));
    s.route('/slow', responses.slow(bytes, { chunk: 100_000, delayMs: 150 }));
    s.route('/chunked', responses.chunked(bytes, { chunk: 70_000 }));

    assert.equal((await rawGet(s.url, '/404')).status, 404);
    const login = await fetch(`${s.url}/login`);
    assert.equal(login.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await login.text(), /<title>/);
    assert.equal(login.headers.get('cross-origin-embedder-policy'), 'require-corp', 'routes carry the isolation headers');

    const part = await fetch(`${s.url}/model`, { headers: { Range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), bytes.subarray(100, 200));

    const cut = await fetch(`${s.url}/cut`);
    assert.equal(cut.headers.get('content-length'), '300000');
    await assert.rejects(cut.arrayBuffer(), 'a body cut short fails to read');

    const t0 = performance.now();
    const slow = await fetch(`${s.url}/slow`);
    assert.deepEqual(new Uint8Array(await slow.arrayBuffer()), bytes);
    assert.ok(performance.now() - t0 >= 2 * 150 - 20, 'slow: 3 chunks, 2 pauses');

    const chunked = await rawGet(s.url, '/chunked');
    assert.equal(chunked.headers['content-length'], undefined);
    assert.equal(chunked.headers['transfer-encoding'], 'chunked');
    assert.deepEqual(new Uint8Array(chunked.body), bytes);

    s.unroute('/404');
    assert.equal((await rawGet(s.url, '/404')).status, 404, 'falls back to the file, which is missing');
  } finally {
    await s.close();
  }
});

// -- in Chromium -----------------------------------------------------------------------------------

test('the served page is crossOriginIsolated and can fetch ranges', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const r = await page.evaluate(async () => {
    const res = await fetch('/package.json', { headers: { Range: 'bytes=0-0' } });
    return { isolated: crossOriginIsolated, sab: typeof SharedArrayBuffer, status: res.status, text: await res.text() };
  });
  assert.deepEqual(r, { isolated: true, sab: 'function', status: 206, text: '{' });
  assert.deepEqual(page.errors, []);
});

test('write, commit, lookup, read: 40 MiB in uneven pieces come back equal, in 8-16 MiB records', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const dbName = freshDb();
  const size = 40 * MiB + 12345;
  const r = await page.evaluate(async ({ dbName, size }) => {
    const { C, fill, writeAll, verify, raw } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const key = 'https://example.test/models/a.gguf';
    const data = fill(size, 1);
    const t0 = performance.now();
    const w = await cache.beginWrite(key, { size });
    await writeAll(w, data);
    const beforeCommit = { lookup: await cache.lookup(key), list: await cache.list() };
    const entry = await w.commit({ size, crc32: 0xdeadbeef, meta: { name: 'a', n: 1 } });
    const t1 = performance.now();
    const lookup = await cache.lookup(key);
    const v = await verify(cache, key, data);
    const t2 = performance.now();
    const late = await w.write(new Uint8Array(1)).then(() => null, (e) => e.name);
    return { beforeCommit, entry, lookup, ...v, list: await cache.list(), raw: await raw(dbName),
      writeMs: t1 - t0, readMs: t2 - t1, late, estimate: await cache.estimate() };
  }, { dbName, size });
  t.diagnostic(`40 MiB: write+commit ${r.writeMs.toFixed(0)} ms, read+compare ${r.readMs.toFixed(0)} ms`);
  assert.deepEqual(r.beforeCommit, { lookup: null, list: [] }, 'nothing is visible before commit');
  assert.equal(r.equal, true, 'the bytes read back equal the bytes written');
  assert.equal(r.lookup.size, size);
  assert.equal(r.lookup.crc32, 0xdeadbeef);
  assert.deepEqual(r.lookup.meta, { name: 'a', n: 1 });
  assert.equal(r.lookup.chunks, 6);
  assert.deepEqual(r.entry, r.lookup);
  assert.equal(typeof r.lookup.storedAt, 'number');
  assertRecordSizes(r.sizes);
  assertRecordSizes(r.raw.chunks.map((/** @type {any} */ c) => c.bytes));
  assert.deepEqual(r.raw.chunks.map((/** @type {any} */ c) => c.index), [0, 1, 2, 3, 4, 5]);
  assert.equal(r.raw.writes.length, 0, 'the write record is gone after commit');
  assert.deepEqual(r.list, [{ key: r.lookup.key, size, storedAt: r.lookup.storedAt, meta: { name: 'a', n: 1 } }]);
  assert.equal(r.late, 'CacheError', 'a committed writer takes no more bytes');
  assert.ok(r.estimate && typeof r.estimate.usage === 'number' && typeof r.estimate.quota === 'number');
  assert.deepEqual(page.errors, []);
});

test('abort() deletes every chunk written; a failed commit (wrong size) leaves nothing either', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const dbName = freshDb();
  const r = await page.evaluate(async (dbName) => {
    const { C, fill, writeAll, raw, describe } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const w = await cache.beginWrite('k');
    await writeAll(w, fill(20 * 2 ** 20, 2));
    const during = (await raw(dbName)).chunks.length;
    await w.abort();
    await w.abort(); // twice is fine
    const afterAbort = { lookup: await cache.lookup('k'), raw: await raw(dbName), state: w.state };
    const w2 = await cache.beginWrite('k2', { size: 100 });
    await w2.write(fill(99, 3));
    const bad = await w2.commit().then(() => null, describe);
    return { during, afterAbort, bad, state2: w2.state, lookup2: await cache.lookup('k2'), raw2: await raw(dbName) };
  }, dbName);
  assert.equal(r.during, 2, 'two full records were stored before abort');
  assert.deepEqual(r.afterAbort, { lookup: null, raw: { chunks: [], writes: [], entries: [] }, state: 'aborted' });
  assert.equal(r.bad.name, 'CacheError');
  assert.match(r.bad.message, /99 bytes were written, 100 expected/);
  assert.equal(r.state2, 'failed');
  assert.equal(r.lookup2, null);
  assert.deepEqual(r.raw2, { chunks: [], writes: [], entries: [] });
  assert.deepEqual(page.errors, []);
});

test('an unfinished write is invisible; a live writer keeps its chunks; a reloaded or closed page\'s are collected', async (t) => {
  const pageA = await openPage(t);
  if (!pageA) return;
  const pageB = /** @type {NonNullable<typeof pageA>} */ (await openPage(t));
  const dbName = freshDb();
  const MB20 = 20 * MiB;

  // A writes 20 MiB (two records stored, 4 MiB buffered) and keeps its writer open
  await pageA.evaluate(async ({ dbName, n }) => {
    const { C, fill, writeAll } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const w = await cache.beginWrite('live', { size: n });
    await writeAll(w, fill(n, 4));
    Object.assign(window, { cache, w });
  }, { dbName, n: MB20 });
  // B opens the cache (collecting garbage): A's write is invisible to it, but left alone
  const seen = await pageB.evaluate(async (dbName) => {
    const { C, raw } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    return { lookup: await cache.lookup('live'), list: await cache.list(), raw: await raw(dbName) };
  }, dbName);
  assert.equal(seen.lookup, null);
  assert.deepEqual(seen.list, []);
  assert.equal(seen.raw.chunks.length, 2, "a live writer's chunks survive another page's collection");
  assert.equal(seen.raw.writes.length, 1);
  // A commits; B sees the whole entry
  await pageA.evaluate(() => /** @type {any} */ (window).w.commit());
  const fromB = await pageB.evaluate(async ({ dbName, n }) => {
    const { C, fill, verify } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    return { lookup: await cache.lookup('live'), ...(await verify(cache, 'live', fill(n, 4))) };
  }, { dbName, n: MB20 });
  assert.equal(fromB.lookup.size, MB20);
  assert.equal(fromB.equal, true);

  // C writes without committing, then reloads: the new document collects the orphans on open
  const pageC = /** @type {NonNullable<typeof pageA>} */ (await openPage(t));
  const startWrite = async (/** @type {typeof pageA} */ p, /** @type {string} */ key) => p?.evaluate(async ({ dbName, key, n }) => {
    const { C, fill, writeAll } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const w = await cache.beginWrite(key);
    await writeAll(w, fill(n, 5));
    /** @type {any} */ (window).w = w;
  }, { dbName, key, n: MB20 });
  await startWrite(pageC, 'reloaded');
  const orphaned = await pageB.evaluate((dbName) => /** @type {any} */ (window).T.raw(dbName), dbName);
  assert.equal(orphaned.chunks.length, 3 + 2, 'A\'s committed 3 records and C\'s 2 unfinished ones');
  await pageC.reload();
  await pageC.waitForFunction(() => /** @type {any} */ (window).ready === true);
  const afterReload = await pageC.evaluate(async (dbName) => {
    const { C, raw } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    return { lookup: await cache.lookup('reloaded'), raw: await raw(dbName) };
  }, dbName);
  assert.equal(afterReload.lookup, null);
  assert.equal(afterReload.raw.chunks.length, 3, "only the committed entry's records are left");
  assert.deepEqual(afterReload.raw.writes, []);

  // the same when the writing page is closed: the next open (here in B) collects
  const pageD = /** @type {NonNullable<typeof pageA>} */ (await openPage(t));
  await startWrite(pageD, 'closed');
  await pageD.close();
  const afterClose = await pageB.evaluate(async ({ dbName, n }) => {
    const { C, raw, fill, verify } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    return { lookup: await cache.lookup('closed'), raw: await raw(dbName), ...(await verify(cache, 'live', fill(n, 4))) };
  }, { dbName, n: MB20 });
  assert.equal(afterClose.lookup, null);
  assert.equal(afterClose.raw.chunks.length, 3);
  assert.deepEqual(afterClose.raw.writes, []);
  assert.equal(afterClose.equal, true, 'the committed entry is intact');
  for (const p of [pageA, pageB, pageC]) assert.deepEqual(p.errors, []);
});

test('overwriting a key: the old entry stays visible until the new one commits, then its data goes', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const dbName = freshDb();
  const r = await page.evaluate(async (dbName) => {
    const { C, fill, writeAll, verify, raw, MiB } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const a = fill(17 * MiB, 6), b = fill(5 * MiB + 1, 7);
    const wa = await cache.beginWrite('k');
    await writeAll(wa, a);
    await wa.commit({ crc32: 1, meta: 'a' });
    const wb = await cache.beginWrite('k');
    await writeAll(wb, b);
    const during = { lookup: await cache.lookup('k'), ...(await verify(cache, 'k', a)) };
    await wb.commit({ crc32: 2, meta: 'b' });
    const after = { lookup: await cache.lookup('k'), ...(await verify(cache, 'k', b)) };
    return { during, after, raw: await raw(dbName), list: await cache.list() };
  }, dbName);
  assert.equal(r.during.lookup.meta, 'a');
  assert.equal(r.during.equal, true, 'the old bytes are readable while the new ones are written');
  assert.equal(r.after.lookup.size, 5 * MiB + 1);
  assert.equal(r.after.lookup.crc32, 2);
  assert.equal(r.after.equal, true);
  assert.equal(r.list.length, 1);
  assert.equal(r.raw.entries.length, 1);
  assert.deepEqual(r.raw.chunks.map((/** @type {any} */ c) => [c.writeId, c.bytes]), [[r.raw.entries[0].writeId, 5 * MiB + 1]],
    'only the new entry\'s record is left');
  assert.deepEqual(page.errors, []);
});

test('list, delete, clear (clear spares a write in progress); empty entries; small records', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const dbName = freshDb();
  const r = await page.evaluate(async (dbName) => {
    const { C, fill, writeAll, verify, raw, describe } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName, chunkBytes: 65536 });
    const put = async (/** @type {string} */ key, /** @type {number} */ n, /** @type {any} */ meta) => {
      const w = await cache.beginWrite(key, { size: n });
      await writeAll(w, fill(n, n));
      return w.commit({ size: n, meta });
    };
    await put('https://h/c.gguf', 300000, { c: 1 });
    await put('https://h/a.gguf', 200000, { a: 1 });
    await put('https://h/empty.gguf', 0, null);
    const list = await cache.list();
    const empty = await verify(cache, 'https://h/empty.gguf', new Uint8Array(0));
    const small = await verify(cache, 'https://h/c.gguf', fill(300000, 300000));
    const records = (await raw(dbName)).chunks.length;
    const del = [await cache.delete('https://h/a.gguf'), await cache.delete('https://h/a.gguf')];
    const afterDelete = { list: (await cache.list()).map((/** @type {any} */ e) => e.key), records: (await raw(dbName)).chunks.length };
    const missing = await (async () => { for await (const _ of cache.read('https://h/a.gguf')); })().then(() => null, describe);
    const w = await cache.beginWrite('https://h/pending.gguf');
    await w.write(fill(200000, 9));
    await cache.clear();
    const afterClear = { list: await cache.list(), raw: await raw(dbName) };
    await w.commit();
    const survivor = await verify(cache, 'https://h/pending.gguf', fill(200000, 9));
    const badKey = await cache.lookup(42).then(() => null, (/** @type {Error} */ e) => e.name);
    return { list, empty, small, records, del, afterDelete, missing, afterClear, survivor, badKey };
  }, dbName);
  assert.deepEqual(r.list.map((/** @type {any} */ e) => [e.key, e.size, e.meta]), [
    ['https://h/a.gguf', 200000, { a: 1 }], ['https://h/c.gguf', 300000, { c: 1 }], ['https://h/empty.gguf', 0, null]]);
  assert.deepEqual(r.empty, { equal: true, sizes: [] });
  assert.equal(r.small.equal, true);
  assert.deepEqual(r.small.sizes, [65536, 65536, 65536, 65536, 300000 - 4 * 65536]);
  assert.equal(r.records, 5 + 4);
  assert.deepEqual(r.del, [true, false]);
  assert.deepEqual(r.afterDelete, { list: ['https://h/c.gguf', 'https://h/empty.gguf'], records: 5 });
  assert.equal(r.missing.name, 'CacheError');
  assert.match(r.missing.message, /no entry for https:\/\/h\/a\.gguf/);
  assert.deepEqual(r.afterClear.list, []);
  assert.deepEqual(r.afterClear.raw.entries, []);
  assert.equal(r.afterClear.raw.chunks.length, 3, 'only the live write\'s 3 full records remain');
  assert.equal(r.survivor.equal, true, 'a write in progress during clear() still commits');
  assert.equal(r.badKey, 'TypeError');
  assert.deepEqual(page.errors, []);
});

test('quota: a real QuotaExceededError (origin quota lowered over CDP) → CacheQuotaError, nothing left', async (t) => {
  if (!chromiumOrSkip(t)) return;
  // its own server, so its own origin: usage starts at zero
  const s = await startStaticServer();
  t.after(() => s.close());
  addTestRoutes(s);
  const page = /** @type {import('./support/browser.js').TestPage} */ (await openPage(t, s.url));
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: s.url, quotaSize: 20 * MiB });
  t.after(() => cdp.send('Storage.overrideQuotaForOrigin', { origin: s.url }).catch(() => {}));
  const dbName = freshDb();
  const size = 40 * MiB;
  const r = await page.evaluate(async ({ dbName, size }) => {
    const { C, fill, writeAll, raw, describe } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const w = await cache.beginWrite('https://h/big.gguf', { size });
    const err = await writeAll(w, fill(size, 8)).then(() => w.commit()).then(() => null, describe);
    const late = await w.write(new Uint8Array(1)).then(() => null, (/** @type {Error} */ e) => e.name);
    return { err, late, state: w.state, lookup: await cache.lookup('https://h/big.gguf'), raw: await raw(dbName) };
  }, { dbName, size });
  assert.ok(r.err, 'storing 40 MiB under a 20 MiB quota fails');
  assert.equal(r.err.name, 'CacheQuotaError');
  assert.ok(r.err.isQuota && r.err.isCacheError);
  assert.equal(r.err.bytes, size);
  // Chromium enforces the overridden quota, but navigator.storage.estimate() keeps reporting the
  // default one, so only the estimate's presence is checked
  assert.equal(typeof r.err.quota, 'number');
  assert.equal(typeof r.err.usage, 'number');
  assert.match(r.err.message, /not enough storage to cache https:\/\/h\/big\.gguf: storing 41943040 bytes \(40\.0 MiB\)/);
  assert.match(r.err.message, /after \d+ bytes had been stored; the browser reports [\d.]+ MiB used of a [\d.]+ MiB quota for this site/);
  assert.equal(r.state, 'failed');
  assert.equal(r.late, 'CacheError');
  assert.equal(r.lookup, null);
  assert.deepEqual(r.raw, { chunks: [], writes: [], entries: [] }, 'the partial chunks were removed');
  assert.deepEqual(page.errors, []);
});

test('quota: put() throwing QuotaExceededError (monkey-patched) → CacheQuotaError, nothing left', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const dbName = freshDb();
  const size = 30 * MiB;
  const r = await page.evaluate(async ({ dbName, size }) => {
    const { C, fill, writeAll, raw, describe } = /** @type {any} */ (window).T;
    const cache = await C.openModelCache({ dbName });
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    // every stored record costs two put() calls (its chunk and its write's activity stamp)
    IDBObjectStore.prototype.put = function (...args) {
      if (++calls > 5) throw new DOMException('simulated: the quota is used up', 'QuotaExceededError');
      return put.apply(this, args);
    };
    let err;
    try {
      const w = await cache.beginWrite('k', { size });
      err = await writeAll(w, fill(size, 9)).then(() => w.commit()).then(() => null, describe);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    return { err, calls, lookup: await cache.lookup('k'), list: await cache.list(), raw: await raw(dbName) };
  }, { dbName, size });
  assert.equal(r.err?.name, 'CacheQuotaError');
  assert.ok(r.err.isQuota && r.err.isCacheError);
  assert.equal(r.err.bytes, size);
  assert.match(r.err.message, /storing 31457280 bytes \(30\.0 MiB\) exceeded the browser's storage quota after 16777216 bytes had been stored/);
  assert.match(r.err.message, /the browser reports .* used of a .* quota/);
  assert.equal(r.lookup, null);
  assert.deepEqual(r.list, []);
  assert.deepEqual(r.raw, { chunks: [], writes: [], entries: [] }, 'the partial chunks were removed');
  assert.deepEqual(page.errors, []);
});

test('in a dedicated module Worker: round trip seen by the window; a terminated writer\'s chunks are collected', async (t) => {
  const page = await openPage(t);
  if (!page) return;
  const dbName = freshDb();
  const size = 12 * MiB + 5;
  const r = await page.evaluate(async ({ dbName, size, url }) => {
    const { C, fill, verify, raw } = /** @type {any} */ (window).T;
    const ask = (/** @type {Worker} */ w, /** @type {any} */ m) => new Promise((resolve, reject) => {
      w.onmessage = (e) => resolve(e.data);
      w.onerror = (e) => reject(new Error(`worker error: ${e.message}`));
      w.postMessage(m);
    });
    const w1 = new Worker(url, { type: 'module' });
    const worker = await ask(w1, { op: 'roundtrip', dbName, key: 'k', size, seed: 10 });
    w1.terminate();
    const cache = await C.openModelCache({ dbName });
    const fromWindow = { lookup: await cache.lookup('k'), ...(await verify(cache, 'k', fill(size, 10))) };
    const w2 = new Worker(url, { type: 'module' });
    const written = await ask(w2, { op: 'write-no-commit', dbName, key: 'orphan', size: 20 * 2 ** 20, seed: 11 });
    const during = (await raw(dbName)).chunks.length;
    w2.terminate();
    // the terminated worker's lock goes away with it; poll briefly in case that lags
    let after;
    for (let i = 0; i < 50; i++) {
      await (await C.openModelCache({ dbName })).close();
      after = await raw(dbName);
      if (after.writes.length === 0) break;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    return { worker, fromWindow, written, during, after };
  }, { dbName, size, url: WORKER });
  assert.equal(r.worker.error, undefined, JSON.stringify(r.worker.error));
  assert.equal(r.worker.available, true);
  assert.equal(r.worker.before, null, 'invisible before commit');
  assert.equal(r.worker.equal, true);
  assertRecordSizes(r.worker.sizes);
  assert.equal(r.worker.entry.size, size);
  assert.deepEqual(r.fromWindow.lookup, r.worker.entry, 'the window sees what the worker committed');
  assert.equal(r.fromWindow.equal, true);
  assert.equal(r.written.written, 20 * MiB);
  assert.equal(r.during, 2 + 2);
  assert.equal(r.after.chunks.length, 2, "the terminated worker's records were collected");
  assert.deepEqual(r.after.writes, []);
  assert.deepEqual(page.errors, []);
});
