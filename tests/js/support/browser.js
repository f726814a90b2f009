// browser.js — what every browser test and benchmark shares: a static file server for the repo
// whose pages are crossOriginIsolated (COOP/COEP, so SharedArrayBuffer and the threaded build
// work), with custom routes for simulating bad downloads, and a headless Chromium with a fresh
// profile that records the page's console errors and uncaught exceptions.
//
// Tests that need Chromium fail under CI (CI always has it) and skip with a clear message
// otherwise: call `chromiumOrSkip(t)` first.

import assert from 'node:assert/strict';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CHROMIUM_PATH = process.env.SM_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, reproducible headless Chromium (no network chatter beyond the test's own). */
export const CHROMIUM_ARGS = Object.freeze([
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]);

/** @type {Readonly<Record<string, string>>} */
export const MIME_TYPES = Object.freeze({
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.html': 'text/html; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.gguf': 'application/octet-stream',
  '.bin': 'application/octet-stream',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
});

/** Headers that make a page crossOriginIsolated; every response of the server carries them. */
export const ISOLATION_HEADERS = Object.freeze({
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
});

const ciRequires = () => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * Why Chromium cannot run here, or null when it can.
 * @returns {string | null}
 */
export function chromiumMissing() {
  if (!existsSync(CHROMIUM_PATH)) return `Chromium not found at ${CHROMIUM_PATH} (set SM_CHROMIUM to its path)`;
  try {
    createRequire(import.meta.url).resolve('playwright-core');
  } catch {
    return "the 'playwright-core' package is not installed (npm install)";
  }
  return null;
}

/**
 * True when Chromium can be launched; otherwise fails the test (under CI) or skips it.
 * @param {import('node:test').TestContext} t
 */
export function chromiumOrSkip(t) {
  const why = chromiumMissing();
  if (!why) return true;
  if (ciRequires()) assert.fail(`${why}: CI runs the browser tests and must have Chromium`);
  t.skip(`${why}: browser test skipped`);
  return false;
}

/**
 * @typedef {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse, url: URL) => unknown} RouteHandler
 * A custom route; the isolation headers (and any extra headers) are already set on `res`.
 */

/**
 * @typedef {object} StaticServer
 * @property {string} url origin with no trailing slash, e.g. "http://127.0.0.1:40123"
 * @property {number} port
 * @property {(path: string, handler: RouteHandler) => void} route serve `path` (exact pathname, no
 *   query) with `handler` instead of a file; registering the same path again replaces it
 * @property {(path: string) => void} unroute
 * @property {() => Promise<void>} close stops listening and drops open connections
 */

/**
 * Serves the files under `root` on 127.0.0.1 and an ephemeral port, with the isolation headers,
 * correct MIME types, single HTTP Range requests, HEAD, and `Cache-Control: no-store` (tests must
 * see what they serve, never the browser's HTTP cache). Paths that leave `root` get 403.
 * @param {{root?: string, headers?: Record<string, string>}} [opts] `headers` are added to (or
 *   override) the defaults on every response
 * @returns {Promise<StaticServer>}
 */
export async function startStaticServer(opts = {}) {
  const root = resolve(opts.root ?? REPO_ROOT);
  const extra = { 'Cache-Control': 'no-store', ...ISOLATION_HEADERS, ...opts.headers };
  /** @type {Map<string, RouteHandler>} */
  const routes = new Map();

  const server = createServer(async (req, res) => {
    for (const [k, v] of Object.entries(extra)) res.setHeader(k, v);
    try {
      const rawPath = (req.url ?? '/').split(/[?#]/, 1)[0];
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const route = routes.get(rawPath) ?? routes.get(url.pathname);
      if (route) {
        await route(req, res, url);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
      const file = resolveInside(root, rawPath);
      if (file === null) return plain(res, 403, 'forbidden: the path leaves the served directory');
      if (file === undefined) return plain(res, 400, 'bad request: malformed path');
      await serveFile(req, res, file);
    } catch (e) {
      if (!res.headersSent) plain(res, 500, `server error: ${/** @type {Error} */ (e).message}`);
      else res.destroy();
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => ok(undefined));
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    route: (path, handler) => { routes.set(path, handler); },
    unroute: (path) => { routes.delete(path); },
    close: () => new Promise((ok) => {
      server.close(() => ok(undefined));
      server.closeAllConnections();
    }),
  };
}

/**
 * The file `rawPath` names inside `root`; null when it would leave `root` (any '..' segment, even
 * percent-encoded, counts), undefined when the path cannot be decoded.
 * @param {string} root @param {string} rawPath
 * @returns {string | null | undefined}
 */
function resolveInside(root, rawPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const segments = decoded.split(/[/\\]+/);
  if (segments.includes('..')) return null;
  const file = resolve(root, '.' + sep + segments.filter(Boolean).join(sep));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return null;
  return file;
}

/**
 * @param {import('node:http').ServerResponse} res @param {number} status @param {string} text
 * @param {Record<string, string>} [headers]
 */
function plain(res, status, text, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * @param {import('node:http').IncomingMessage} req @param {import('node:http').ServerResponse} res
 * @param {string} file
 */
async function serveFile(req, res, file) {
  let info;
  try {
    info = await stat(file);
    if (info.isDirectory()) {
      file = join(file, 'index.html');
      info = await stat(file);
    }
  } catch {
    // browsers ask for an icon on every page; answering 204 keeps a 404 out of their consoles
    if (req.url === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    return plain(res, 404, `not found: ${req.url}`);
  }
  if (!info.isFile()) return plain(res, 404, `not found: ${req.url}`);
  const size = info.size;
  res.setHeader('Content-Type', MIME_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream');
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('Last-Modified', info.mtime.toUTCString());

  let start = 0, end = size - 1, status = 200;
  const range = parseRange(req.headers.range, size);
  if (range === null) {
    res.setHeader('Content-Range', `bytes */${size}`);
    return plain(res, 416, `range not satisfiable: ${req.headers.range} of ${size} bytes`);
  }
  if (range) {
    [start, end] = range;
    status = 206;
    res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
  }
  res.writeHead(status, { 'Content-Length': Math.max(0, end - start + 1) });
  if (req.method === 'HEAD' || end < start) {
    res.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/**
 * One "bytes=a-b" / "bytes=a-" / "bytes=-n" range → [start, end] inclusive; undefined when there
 * is no usable Range header (absent, another unit, several ranges: the whole file is sent),
 * null when it cannot be satisfied.
 * @param {string | undefined} header @param {number} size
 * @returns {[number, number] | null | undefined}
 */
export function parseRange(header, size) {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return null;
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return null;
  return [start, end];
}

// -- responses that custom routes use to simulate what goes wrong with downloads ---------------

const sleep = (/** @type {number} */ ms) => new Promise((ok) => setTimeout(ok, ms));

/** Ready-made route handlers for the failure modes a model download meets. */
export const responses = {
  /** @param {string} [text] @returns {RouteHandler} */
  notFound: (text = 'not found') => (_req, res) => plain(res, 404, text),

  /** An HTML page where a model was expected (a login wall, a hub's web page).
   * @param {string} [html] @param {number} [status] @returns {RouteHandler} */
  html: (html = '<!doctype html><title>Sign in</title><p>Please sign in', status = 200) => (_req, res) => {
    res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
    res.end(html);
  },

  /** The whole body with a Content-Length, honouring single Range requests.
   * @param {Uint8Array} bytes @param {string} [type] @returns {RouteHandler} */
  bytes: (bytes, type = 'application/octet-stream') => (req, res) => {
    const range = parseRange(req.headers.range, bytes.length);
    res.setHeader('Accept-Ranges', 'bytes');
    if (range === null) {
      res.setHeader('Content-Range', `bytes */${bytes.length}`);
      return plain(res, 416, 'range not satisfiable');
    }
    const [start, end] = range ?? [0, bytes.length - 1];
    if (range) res.setHeader('Content-Range', `bytes ${start}-${end}/${bytes.length}`);
    res.writeHead(range ? 206 : 200, { 'Content-Type': type, 'Content-Length': end - start + 1 });
    res.end(req.method === 'HEAD' ? undefined : bytes.subarray(start, end + 1));
  },

  /** Announces `declared` bytes (default: all of them), sends the first `sent`, then drops the
   * connection: the client sees a body cut short.
   * @param {Uint8Array} bytes @param {{sent: number, declared?: number}} o @returns {RouteHandler} */
  truncated: (bytes, { sent, declared = bytes.length }) => (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': declared });
    res.write(bytes.subarray(0, sent), () => setTimeout(() => res.socket?.destroy(), 20));
  },

  /** Sends `bytes` in `chunk`-byte pieces with `delayMs` between them (Content-Length set unless
   * `chunked`). Stops early when the client goes away.
   * @param {Uint8Array} bytes @param {{chunk?: number, delayMs?: number, chunked?: boolean}} [o]
   * @returns {RouteHandler} */
  slow: (bytes, { chunk = 64 * 1024, delayMs = 50, chunked = false } = {}) => async (_req, res) => {
    /** @type {Record<string, string | number>} */
    const head = { 'Content-Type': 'application/octet-stream' };
    if (!chunked) head['Content-Length'] = bytes.length;
    res.writeHead(200, head);
    let gone = false;
    res.once('close', () => { gone = true; });
    for (let off = 0; off < bytes.length && !gone; off += chunk) {
      await new Promise((ok) => res.write(bytes.subarray(off, off + chunk), ok));
      if (off + chunk < bytes.length) await sleep(delayMs);
    }
    res.end();
  },

  /** The body with no Content-Length (Transfer-Encoding: chunked), in `chunk`-byte pieces.
   * @param {Uint8Array} bytes @param {{chunk?: number}} [o] @returns {RouteHandler} */
  chunked: (bytes, { chunk = 256 * 1024 } = {}) => responses.slow(bytes, { chunk, delayMs: 0, chunked: true }),
};

// -- Chromium -------------------------------------------------------------------------------------

/**
 * @typedef {import('playwright-core').Page & {errors: string[]}} TestPage a page whose console
 *   errors (its workers' included) and uncaught exceptions are collected in `errors`
 */

/**
 * @typedef {object} TestBrowser
 * @property {import('playwright-core').BrowserContext} context the persistent context (one profile)
 * @property {import('playwright-core').BrowserContext} browser the same object, for symmetry
 * @property {string} profileDir the fresh user-data-dir, deleted by close()
 * @property {(url?: string) => Promise<TestPage>} newPage opens a page (and goes to `url`)
 * @property {string[]} errors every page's errors, each prefixed with its page's URL
 * @property {() => Promise<void>} close closes Chromium and deletes the profile
 */

/**
 * Launches headless Chromium with the flags above and a fresh temporary profile.
 * @param {{args?: string[], executablePath?: string}} [opts] `args` are added to CHROMIUM_ARGS
 * @returns {Promise<TestBrowser>}
 */
export async function launchBrowser(opts = {}) {
  const { chromium } = await import('playwright-core');
  const profileDir = await mkdtemp(join(tmpdir(), 'smallmind-chromium-'));
  /** @type {import('playwright-core').BrowserContext} */
  let context;
  try {
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: opts.executablePath ?? CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
      timeout: 30_000,
    });
  } catch (e) {
    await rm(profileDir, { recursive: true, force: true });
    throw e;
  }
  /** @type {string[]} */
  const errors = [];
  let closed = false;
  return {
    context,
    browser: context,
    profileDir,
    errors,
    async newPage(url) {
      const page = /** @type {TestPage} */ (await context.newPage());
      page.errors = [];
      const record = (/** @type {string} */ text) => {
        page.errors.push(text);
        errors.push(`${page.url()}: ${text}`);
      };
      page.on('console', (msg) => {
        if (msg.type() === 'error') record(`console.error: ${msg.text()}`);
      });
      page.on('pageerror', (err) => record(`uncaught: ${err.stack ?? err.message}`));
      page.on('crash', () => record('the page crashed'));
      if (url) await page.goto(url);
      return page;
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await context.close();
      } finally {
        await rm(profileDir, { recursive: true, force: true, maxRetries: 3 });
      }
    },
  };
}
