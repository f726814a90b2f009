// host-sources.js — where a model's bytes come from, inside the engine worker: an async iterable
// of Uint8Array chunks plus the total size when known. Three kinds:
//   url   fetched here (in the worker), so a download never passes through the page's thread
//   path  a local file read in 8 MiB pieces (Node, Deno, Bun)
//   push  chunks posted by the client (Blob, ArrayBuffer, Response, Request); acknowledged so the
//         client keeps a bounded number of bytes in flight
// Each fails with a LoadError whose reason a program can test ('http', 'network', 'not-found').

import { AbortError, LoadError, isAbortError } from './errors.js';
import { env } from './env.js';

/**
 * @typedef {{kind: 'url', url: string, headers?: Record<string, string>}
 *   | {kind: 'path', path: string}
 *   | {kind: 'push', size: number | null, name: string}} SourceSpec
 * @typedef {{name: string, size: number | null, chunks: AsyncIterable<Uint8Array>}} OpenSource
 */

const READ_CHUNK = 8 * 2 ** 20;

/** @param {string} url @param {Record<string,string> | undefined} headers @param {AbortSignal} signal @returns {Promise<OpenSource>} */
export async function openUrl(url, headers, signal) {
  if (url.startsWith('file:') && env.nodeApis) {
    const { fileURLToPath } = await import('node:url');
    return openPath(fileURLToPath(url), signal);
  }
  /** @type {Response} */
  let res;
  try {
    res = await fetch(url, { signal, headers });
  } catch (e) {
    if (signal.aborted || isAbortError(e)) throw new AbortError('the model download was aborted');
    throw new LoadError(`cannot download ${url}: ${/** @type {Error} */ (e).message}`, 'network', { cause: e });
  }
  return openResponse(res, url);
}

/**
 * A model download's response, checked: an HTTP error becomes a LoadError (reason 'http'), and the
 * decoded size is read from Content-Length (null when unknown). Used on both sides of the worker.
 * @param {Response} res @param {string} name
 * @returns {{body: ReadableStream<Uint8Array>, size: number | null}}
 */
export function checkResponse(res, name) {
  if (!res.ok) {
    res.body?.cancel().catch(() => {});
    throw new LoadError(`cannot download ${name}: HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`, 'http', { httpStatus: res.status });
  }
  if (!res.body) throw new LoadError(`${name}: the response has no body`, 'network');
  // Content-Length counts encoded bytes; with a Content-Encoding the decoded size is unknown
  const len = res.headers.get('content-length');
  const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
  return { body: res.body, size: len !== null && !encoded && /^\d+$/.test(len) ? Number(len) : null };
}

/** @param {Response} res @param {string} name @returns {OpenSource} */
export function openResponse(res, name) {
  const { body, size } = checkResponse(res, name);
  return {
    name, size,
    chunks: (async function* () {
      // A BYOB reader fills one reused 1 MiB buffer: the consumers copy each chunk before asking
      // for the next (ModelFile.push, the cache writer), and a gigabyte download no longer leaves
      // a gigabyte of chunk buffers for the garbage collector (Chromium's renderer peaked at
      // 1.45x the file without it). Runtimes whose fetch body is not a byte stream fall back.
      const byob = byobReader(body);
      const reader = byob ?? body.getReader();
      let buf = byob ? new ArrayBuffer(BYOB_CHUNK) : null;
      try {
        for (;;) {
          /** @type {ReadableStreamReadResult<Uint8Array>} */
          let r;
          try {
            r = byob && buf ? await byob.read(new Uint8Array(buf, 0, BYOB_CHUNK)) : await /** @type {ReadableStreamDefaultReader<Uint8Array>} */ (reader).read();
          } catch (e) {
            if (isAbortError(e)) throw new AbortError('the model download was aborted');
            throw new LoadError(`${name}: the download failed: ${/** @type {Error} */ (e).message}`, 'network', { cause: e });
          }
          if (r.done) return;
          yield r.value;
          if (byob) buf = r.value.buffer; // the read transferred it; the consumer is done with it
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    })(),
  };
}

const BYOB_CHUNK = 1 << 20;

/** @param {ReadableStream<Uint8Array>} body @returns {ReadableStreamBYOBReader | null} */
function byobReader(body) {
  try {
    return /** @type {any} */ (body).getReader({ mode: 'byob' });
  } catch {
    return null; // not a byte stream here
  }
}

/** @param {string} path @param {AbortSignal} signal @returns {Promise<OpenSource>} */
export async function openPath(path, signal) {
  if (!env.nodeApis) throw new LoadError(`a file path ('${path}') can only be loaded in Node, Deno or Bun; pass a URL, a Blob or bytes here`, 'bad-source');
  const fs = await import('node:fs/promises');
  /** @type {import('node:fs/promises').FileHandle} */
  let fh;
  try {
    fh = await fs.open(path, 'r');
  } catch (e) {
    const code = /** @type {any} */ (e).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : /** @type {Error} */ (e).message;
    throw new LoadError(`cannot open model file '${path}': ${what}`, 'not-found', { cause: e });
  }
  const st = await fh.stat();
  if (st.isDirectory()) {
    await fh.close();
    throw new LoadError(`'${path}' is a directory, not a model file`, 'bad-source');
  }
  return {
    name: path, size: st.size,
    chunks: (async function* () {
      try {
        let pos = 0;
        // one buffer for the whole file: each chunk is copied into WASM memory before the next read
        const buf = new Uint8Array(Math.min(READ_CHUNK, Math.max(1, st.size)));
        while (pos < st.size) {
          if (signal.aborted) throw new AbortError('the model load was aborted');
          const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, st.size - pos), pos);
          if (bytesRead === 0) break; // the file shrank while being read: finish() reports it
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
        }
      } finally {
        await fh.close();
      }
    })(),
  };
}

/**
 * Chunks the client posts; `ack(bytes)` tells it how much has been consumed.
 */
export class PushSource {
  /** @param {string} name @param {number | null} size @param {(bytes: number) => void} ack */
  constructor(name, size, ack) {
    this.name = name;
    this.size = size;
    this.ack = ack;
    /** @type {(Uint8Array | null)[]} null marks the end */
    this.queue = [];
    /** @type {(() => void) | null} */
    this.wake = null;
    /** @type {Error | null} */
    this.failure = null;
  }

  /** @param {Uint8Array | null} chunk null = end of data */
  feed(chunk) {
    this.queue.push(chunk);
    this.wake?.();
  }

  /** @param {Error} e */
  fail(e) {
    this.failure = e;
    this.wake?.();
  }

  /** @returns {OpenSource} */
  open() {
    const self = this;
    return {
      name: this.name, size: this.size,
      chunks: (async function* () {
        for (;;) {
          while (!self.queue.length && !self.failure) await new Promise((r) => { self.wake = () => { self.wake = null; r(undefined); }; });
          if (self.failure) throw self.failure;
          const c = /** @type {Uint8Array | null} */ (self.queue.shift());
          if (c === null) return;
          yield c;
          self.ack(c.length);
        }
      })(),
    };
  }
}
