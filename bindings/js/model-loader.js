// model-loader.js — assembles a model file in WASM memory as its bytes arrive (runs in the engine
// worker). One ModelFile per file or split part.
//
// The file is allocated once, at its final size, and each chunk is copied straight into place, so
// the JS heap never holds a second full copy. Before that allocation the header is checked: the
// first bytes must be a GGUF or SMND magic (an HTML page or a JSON error body fails at once, with a hint),
// and when the engine has sm_js_model_probe the metadata and tensor table are validated from the
// prefix (unsupported architecture or type, tensors past the end of the file) before the large
// allocation. A running CRC-32 of the bytes is kept for the model cache.

import { LoadError, SM_ERR_NOMEM, SM_ERR_UNSUPPORTED } from './errors.js';
import { crc32 as crc32Js } from './crc32.js';

/** wasm32 addresses 4 GiB; leave room for the KV cache, scratch and the runtime */
export const MAX_MODEL_BYTES = 2 ** 32 - 256 * 2 ** 20;

/** @param {any} m @returns {Uint8Array} a view of all of WASM memory, current after growth */
export function heapU8(m) {
  return m.wasmMemory && m.HEAPU8.buffer !== m.wasmMemory.buffer ? new Uint8Array(m.wasmMemory.buffer) : m.HEAPU8;
}

/** @param {Uint8Array} head the first bytes @returns {string} what the bytes look like instead */
function describeNonModel(head) {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 64));
  const printable = text.replace(/[^\x20-\x7e]/g, '.').slice(0, 40);
  const t = text.trimStart().toLowerCase();
  let hint = '';
  if (t.startsWith('<!doctype html') || t.startsWith('<html') || t.startsWith('<head') || t.startsWith('<body')) {
    hint = ' — an HTML page, not a model (a wrong URL, or a login or error page?)';
  } else if (t.startsWith('{') || t.startsWith('[')) hint = ' — JSON, not a model (an error response?)';
  else if (t.startsWith('version https://git-lfs')) hint = ' — a Git LFS pointer, not the model (use the resolve/ URL)';
  return `not a GGUF file: it starts with '${printable}'${hint}`;
}

/** @param {Uint8Array} head @returns {boolean} SMND's magic with at most one byte off (the engine
 * then reports a damaged SMND file rather than "not a GGUF file"; docs/SMND.md §4) */
function smndLike(head) {
  let same = 0;
  for (let i = 0; i < 4; i++) same += head[i] === 'SMND'.charCodeAt(i) ? 1 : 0;
  return same >= 3;
}

export class ModelFile {
  /**
   * @param {any} mod the Emscripten module
   * @param {{name: string, size?: number | null, hash?: boolean}} opts size: the exact byte count
   *   when known (Content-Length, file size) — the buffer is then allocated once; hash: keep a CRC-32
   */
  constructor(mod, opts) {
    this.mod = mod;
    this.name = opts.name;
    /** @type {number | null} */
    this.expected = opts.size ?? null;
    this.hash = !!opts.hash;
    this.crc = 0;
    this.received = 0;
    this.ptr = 0;
    /** @type {Uint8Array[]} chunks held until the header is validated (or, size unknown, to the end) */
    this.pending = [];
    this.pendingBytes = 0;
    this.headerChecked = false;
    this.probeNeeds = 4;
    if (this.expected !== null && this.expected > MAX_MODEL_BYTES) {
      throw new LoadError(`${this.name} is ${(this.expected / 2 ** 30).toFixed(2)} GiB; WebAssembly's 4 GiB address space holds at most ${(MAX_MODEL_BYTES / 2 ** 30).toFixed(2)} GiB of model`, 'too-large', { status: SM_ERR_NOMEM });
    }
  }

  /** @param {Uint8Array} chunk bytes that follow the ones already pushed */
  push(chunk) {
    if (!chunk.length) return;
    if (this.expected !== null && this.received + chunk.length > this.expected) {
      throw new LoadError(`${this.name}: received more bytes than its announced size ${this.expected}`, 'format');
    }
    this.received += chunk.length;
    if (this.ptr) {
      this.copyIn(chunk, this.received - chunk.length);
      return;
    }
    // a copy: the source may reuse its buffer for the next chunk (host-sources.js openPath)
    this.pending.push(chunk.slice());
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > MAX_MODEL_BYTES) throw new LoadError(`${this.name} is larger than the ${(MAX_MODEL_BYTES / 2 ** 30).toFixed(2)} GiB WebAssembly can hold`, 'too-large', { status: SM_ERR_NOMEM });
    if (!this.headerChecked && this.pendingBytes >= this.probeNeeds) this.checkHeader();
    if (this.headerChecked && this.expected !== null) this.allocateAndDrain(this.expected);
  }

  /** @returns {Uint8Array} the first pending bytes, joined */
  prefix() {
    if (this.pending.length === 1) return this.pending[0];
    const out = new Uint8Array(this.pendingBytes);
    let at = 0;
    for (const c of this.pending) { out.set(c, at); at += c.length; }
    this.pending = [out];
    return out;
  }

  checkHeader() {
    const head = this.prefix();
    if (head.length >= 4 && !(head[0] === 0x47 && head[1] === 0x47 && head[2] === 0x55 && head[3] === 0x46) && !smndLike(head)) {
      throw new LoadError(`${this.name}: ${describeNonModel(head)}`, 'not-gguf');
    }
    const m = this.mod;
    if (typeof m._sm_js_model_probe !== 'function') { this.headerChecked = true; return; }
    const p = m._sm_js_alloc(head.length);
    if (!p) throw new LoadError(`out of WASM memory reading the header of ${this.name}`, 'out-of-memory', { status: SM_ERR_NOMEM });
    try {
      heapU8(m).set(head, p);
      const json = m._sm_js_model_probe(p, head.length, this.expected ?? 0);
      if (!json) {
        const status = m._sm_js_error_code();
        const msg = m.UTF8ToString(m._sm_js_error_msg());
        const reason = status === SM_ERR_UNSUPPORTED ? 'unsupported' : /not a GGUF/i.test(msg) ? 'not-gguf' : /truncat/i.test(msg) ? 'truncated' : 'format';
        throw new LoadError(`${this.name}: ${msg}`, reason, { status });
      }
      const probe = JSON.parse(m.UTF8ToString(json));
      /** @type {{complete: boolean, bytes_needed: number, arch?: string, split_count?: number, split_no?: number}} */
      this.probe = probe;
      if (probe.complete) this.headerChecked = true;
      else this.probeNeeds = Math.max(probe.bytes_needed, this.pendingBytes + 1);
    } finally {
      m._sm_js_free(p);
    }
  }

  /** @param {number} size */
  allocateAndDrain(size) {
    const m = this.mod;
    this.ptr = m._sm_js_alloc(Math.max(1, size));
    if (!this.ptr) {
      throw new LoadError(`out of WASM memory: cannot allocate ${(size / 2 ** 20).toFixed(1)} MiB for ${this.name}`, 'out-of-memory', { status: SM_ERR_NOMEM });
    }
    let at = 0;
    for (const c of this.pending) { this.copyIn(c, at); at += c.length; }
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** @param {Uint8Array} chunk @param {number} at */
  copyIn(chunk, at) {
    const m = this.mod;
    heapU8(m).set(chunk, this.ptr + at);
    if (!this.hash) return;
    this.crc = typeof m._sm_js_crc32 === 'function' ? m._sm_js_crc32(this.crc, this.ptr + at, chunk.length) >>> 0 : crc32Js(this.crc, chunk);
  }

  /** All bytes are in. @returns {{ptr: number, size: number, crc32: number}} ownership passes to the caller */
  finish() {
    if (this.expected !== null && this.received < this.expected) {
      throw new LoadError(`${this.name}: the download was truncated: got ${this.received} of ${this.expected} bytes`, 'truncated');
    }
    if (!this.headerChecked) {
      if (this.received < 4) throw new LoadError(`${this.name}: not a GGUF file: only ${this.received} bytes`, this.received ? 'not-gguf' : 'truncated');
      this.checkHeader();
      if (!this.headerChecked) throw new LoadError(`${this.name}: the file ends inside its GGUF header (${this.received} bytes); it is truncated`, 'truncated');
    }
    if (!this.ptr) this.allocateAndDrain(this.received);
    const out = { ptr: this.ptr, size: this.received, crc32: this.crc };
    this.ptr = 0;
    return out;
  }

  /** Frees whatever was allocated (safe to call more than once, and after finish()). */
  free() {
    if (this.ptr) this.mod._sm_js_free(this.ptr);
    this.ptr = 0;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
