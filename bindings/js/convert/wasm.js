// wasm.js — the engine's WASM exports the converters use: the SMND writer (sm_smnd_writer_* in
// sm.h, framing and CRCs) and tensor type conversion (sm_type_convert: the scalar reference
// quantizers, so a conversion gives the same bytes natively and here). One module per process,
// instantiated on first use in the calling thread (converters run in Node, not in a worker).
// Not the inference engine API: that is engine.js.

import { SmallMindError, SM_ERR_INVALID_ARG, SM_ERR_NOMEM } from '../errors.js';
import { heapU8 } from '../model-loader.js';
import { loadWasm } from '../wasm-loader.js';

/** @type {Map<string, Promise<any>>} */
const modules = new Map();

/**
 * The Emscripten module the converters run on ('simd' variant), loaded once per assets directory.
 * @param {{assetsBase?: string | URL, module?: any}} [opts] module: an already loaded one
 * @returns {Promise<any>}
 */
export async function convertModule(opts = {}) {
  if (opts.module) return opts.module;
  const key = String(opts.assetsBase ?? '');
  if (!modules.has(key)) {
    const p = loadWasm({ variant: 'simd', assetsBase: opts.assetsBase }).then((m) => {
      if (typeof m._sm_js_smnd_writer_new !== 'function') {
        throw new SmallMindError('this WASM build has no SMND writer; rebuild it (npm run build)', -4);
      }
      return m;
    });
    p.catch(() => modules.delete(key));
    modules.set(key, p);
  }
  return /** @type {Promise<any>} */ (modules.get(key));
}

/** @param {any} m @param {number} n @returns {number} a WASM address (throws when out of memory) */
function alloc(m, n) {
  const p = m._sm_js_alloc(Math.max(1, n));
  if (!p) throw new SmallMindError(`out of WASM memory (${n} bytes)`, SM_ERR_NOMEM);
  return p;
}

/** @param {any} m @param {Uint8Array} bytes @returns {number} */
function copyIn(m, bytes) {
  const p = alloc(m, bytes.length);
  heapU8(m).set(bytes, p);
  return p;
}

/** @param {any} m @param {number} p @returns {number} a wasm32 size_t/pointer at address p */
function readU32(m, p) {
  const h = heapU8(m);
  return (h[p] | (h[p + 1] << 8) | (h[p + 2] << 16) | (h[p + 3] << 24)) >>> 0;
}

/**
 * A streaming SMND writer over the WASM one. Every call returns the bytes it produced (a copy),
 * which the caller appends to its file.
 */
export class WasmSmndWriter {
  /**
   * @param {any} m the module
   * @param {{version?: number, metaJson: string,
   *   tensors: {name: string, type: number, dims: number[]}[]}} spec metaJson: the metadata object
   *   without "tensor_count" (docs/SMND.md §3); version 0/undefined: the lowest that fits
   */
  constructor(m, spec) {
    this.m = m;
    const enc = new TextEncoder();
    const meta = enc.encode(spec.metaJson);
    const names = [];
    let namesLen = 0;
    for (const t of spec.tensors) {
      const b = enc.encode(t.name);
      if (b.includes(0)) throw new SmallMindError(`tensor name '${t.name}' contains a NUL byte`, SM_ERR_INVALID_ARG);
      names.push(b);
      namesLen += b.length + 1;
    }
    const nameBlob = new Uint8Array(namesLen);
    let at = 0;
    for (const b of names) { nameBlob.set(b, at); at += b.length + 1; }
    const desc = new Float64Array(Math.max(1, spec.tensors.length * 6));
    spec.tensors.forEach((t, i) => {
      desc.set([t.type, t.dims.length, t.dims[0] ?? 1, t.dims[1] ?? 1, t.dims[2] ?? 1, t.dims[3] ?? 1], i * 6);
    });
    const pm = copyIn(m, meta);
    const pn = copyIn(m, nameBlob);
    const pd = copyIn(m, new Uint8Array(desc.buffer));
    try {
      this.h = m._sm_js_smnd_writer_new(spec.version ?? 0, pm, meta.length, pn, pd, spec.tensors.length);
    } finally {
      m._sm_js_free(pm);
      m._sm_js_free(pn);
      m._sm_js_free(pd);
    }
    if (!this.h) {
      throw new SmallMindError(`SMND: ${m.UTF8ToString(m._sm_js_error_msg())}`, m._sm_js_error_code());
    }
    /** the version being written (1 or 2) */
    this.version = m._sm_js_smnd_writer_info(this.h, 0);
    /** the finished file's size in bytes */
    this.fileSize = m._sm_js_smnd_writer_info(this.h, 1);
    this.buf = 0;
    this.bufCap = 0;
    this.lenPtr = alloc(m, 4);
    /** the header and metadata, produced by the constructor */
    this.head = this.out();
  }

  /** @returns {Uint8Array} a copy of the bytes the last call produced */
  out() {
    const p = this.m._sm_js_smnd_writer_out(this.h, this.lenPtr);
    const n = readU32(this.m, this.lenPtr);
    return heapU8(this.m).slice(p, p + n);
  }

  /** @param {number} status */
  check(status) {
    if (status < 0) {
      throw new SmallMindError(`SMND: ${this.m.UTF8ToString(this.m._sm_js_smnd_writer_error(this.h))}`, status);
    }
  }

  /**
   * Tensor data (the tensors back to back, in order, in pieces of any size).
   * @param {Uint8Array} bytes @returns {Uint8Array} the bytes to append to the file
   */
  write(bytes) {
    const m = this.m;
    if (bytes.length > this.bufCap) {
      if (this.buf) m._sm_js_free(this.buf);
      this.buf = 0;
      this.bufCap = 0;
      this.buf = alloc(m, bytes.length);
      this.bufCap = bytes.length;
    }
    heapU8(m).set(bytes, this.buf);
    this.check(m._sm_js_smnd_writer_write(this.h, this.buf, bytes.length));
    return this.out();
  }

  /** Checks that every tensor was written. @returns {Uint8Array} (empty) */
  finish() {
    this.check(this.m._sm_js_smnd_writer_finish(this.h));
    return this.out();
  }

  free() {
    const m = this.m;
    if (this.h) m._sm_js_smnd_writer_free(this.h);
    if (this.buf) m._sm_js_free(this.buf);
    if (this.lenPtr) m._sm_js_free(this.lenPtr);
    this.h = 0;
    this.buf = 0;
    this.lenPtr = 0;
  }
}

/**
 * Converts `n` elements from one ggml type to another with the engine's reference kernels
 * (sm_type_convert): F32/F16/BF16 → Q8_0, Q4_0, Q4_K, Q6_K, F16, ...; any type → F32.
 * @param {any} m the module
 * @param {number} srcType @param {Uint8Array} src @param {number} dstType @param {number} n
 * @param {number} dstBytes size of the result
 * @returns {Uint8Array}
 */
export function typeConvert(m, srcType, src, dstType, n, dstBytes) {
  const ps = copyIn(m, src);
  let pd = 0;
  try {
    pd = alloc(m, dstBytes);
    const st = m._sm_js_type_convert(srcType, ps, dstType, pd, n);
    if (st < 0) throw new SmallMindError(`cannot convert ${n} elements from type ${srcType} to type ${dstType} (status ${st})`, st);
    return heapU8(m).slice(pd, pd + dstBytes);
  } finally {
    m._sm_js_free(ps);
    if (pd) m._sm_js_free(pd);
  }
}
