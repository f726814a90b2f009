// sources.js — what the caller passed to SmallMind.load, turned into source specs the engine host
// understands (host-sources.js) plus, for in-memory and stream sources, the pump that posts their
// bytes. URLs and file paths are read by the host itself, in the worker; Blobs, buffers,
// Responses and Requests are read here and posted in chunks with a bounded window in flight.

import { env } from './env.js';
import { LoadError } from './errors.js';
import { PUSH_CHUNK } from './protocol.js';
import { checkResponse } from './host-sources.js';

/** @typedef {import('./host-sources.js').SourceSpec} SourceSpec */
/** @typedef {string | URL | Request | Response | Blob | ArrayBuffer | ArrayBufferView} ModelSource */

/**
 * @typedef {object} ResolvedSources
 * @property {SourceSpec[]} specs one per file (split parts in order)
 * @property {Map<number, () => AsyncIterable<Uint8Array>>} pushers part → its chunks, for 'push' specs
 * @property {string} label what to call the model in messages
 */

const SPLIT_NAME = /-(\d{5})-of-(\d{5})\.gguf(?=$|[?#])/;

/**
 * '…-00001-of-00003.gguf' names its siblings; any other name is a single file.
 * @param {string} name @returns {string[]}
 */
export function expandSplitName(name) {
  const m = SPLIT_NAME.exec(name);
  if (!m || Number(m[1]) !== 1) return [name];
  const n = Number(m[2]);
  if (n < 1 || n > 9999) return [name];
  const stem = name.slice(0, m.index);
  const tail = name.slice(m.index + m[0].length);
  return Array.from({ length: n }, (_, i) => `${stem}-${String(i + 1).padStart(5, '0')}-of-${m[2]}.gguf${tail}`);
}

/** @param {string} s */
function looksLikeUrl(s) {
  return /^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s);
}

/**
 * @param {ModelSource | ModelSource[]} input
 * @param {{headers?: Record<string, string>, signal?: AbortSignal}} [opts]
 * @returns {Promise<ResolvedSources>}
 */
export async function resolveSources(input, opts = {}) {
  /** @type {SourceSpec[]} */
  const specs = [];
  /** @type {Map<number, () => AsyncIterable<Uint8Array>>} */
  const pushers = new Map();
  const items = Array.isArray(input) ? input : [input];
  if (!items.length) throw new TypeError('SmallMind.load() needs a model source (URL, path, Blob, bytes or a list of split parts)');
  const expand = !Array.isArray(input);
  for (const item of items) {
    if (typeof item === 'string' || item instanceof URL) {
      const s = String(item);
      const url = item instanceof URL || looksLikeUrl(s);
      if (!url && env.nodeApis) {
        for (const p of expand ? expandSplitName(s) : [s]) specs.push({ kind: 'path', path: p });
        continue;
      }
      const base = /** @type {any} */ (globalThis).location?.href;
      if (!url && !base) throw new LoadError(`'${s}' is neither a URL nor loadable as a file path in this runtime`, 'bad-source');
      const href = new URL(s, base).href;
      for (const u of expand ? expandSplitName(href) : [href]) specs.push({ kind: 'url', url: u, headers: opts.headers });
      continue;
    }
    const part = specs.length;
    if ((typeof Request === 'function' && item instanceof Request) || (typeof Response === 'function' && item instanceof Response)) {
      const res = item instanceof Response ? item : await fetchRequest(item, opts.signal);
      const name = item.url || 'Response';
      const { body, size } = checkResponse(res, name);
      specs.push({ kind: 'push', size, name });
      pushers.set(part, () => streamChunks(body));
    } else if (typeof Blob === 'function' && item instanceof Blob) {
      const name = /** @type {any} */ (item).name || 'Blob';
      specs.push({ kind: 'push', size: item.size, name });
      pushers.set(part, () => streamChunks(item.stream()));
    } else if (item instanceof ArrayBuffer || ArrayBuffer.isView(item) || isSharedBuffer(item)) {
      const bytes = ArrayBuffer.isView(item) ? new Uint8Array(item.buffer, item.byteOffset, item.byteLength) : new Uint8Array(/** @type {ArrayBuffer} */ (item));
      specs.push({ kind: 'push', size: bytes.length, name: `${bytes.length}-byte buffer` });
      pushers.set(part, () => bufferChunks(bytes));
    } else {
      throw new TypeError(`SmallMind.load() cannot read a model from ${item === null ? 'null' : typeof item === 'object' ? item.constructor?.name ?? 'an object' : typeof item}; pass a URL, a file path, a Blob/File, a Response/Request, an ArrayBuffer/Uint8Array, or a list of split parts`);
    }
  }
  const first = specs[0];
  const label = first.kind === 'url' ? first.url : first.kind === 'path' ? first.path : first.name;
  return { specs, pushers, label };
}

/** @param {unknown} x */
function isSharedBuffer(x) {
  return typeof SharedArrayBuffer === 'function' && x instanceof SharedArrayBuffer;
}

/** Copies of PUSH_CHUNK-byte pieces: each can be transferred without detaching the caller's buffer.
 * @param {Uint8Array} bytes */
async function* bufferChunks(bytes) {
  for (let at = 0; at < bytes.length; at += PUSH_CHUNK) yield bytes.slice(at, Math.min(bytes.length, at + PUSH_CHUNK));
}

/** @param {ReadableStream<Uint8Array>} stream */
async function* streamChunks(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) return;
      yield r.value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** @param {Request} req @param {AbortSignal | undefined} signal @returns {Promise<Response>} */
async function fetchRequest(req, signal) {
  try {
    return await fetch(req, { signal });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new LoadError(`cannot download ${req.url}: ${/** @type {Error} */ (e).message}`, 'network', { cause: e });
  }
}
