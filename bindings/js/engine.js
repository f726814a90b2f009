// engine.js — a thin, synchronous object layer over the WASM exports: Engine → Model → Session,
// and Engine → Tokenizer (tokenizer.js) for a tokenizer without a model.
//
// Memory ownership follows the C API: a Model owns a copy of the file bytes inside WASM memory
// (weights are views into it), a Session owns its KV cache. Call free() when done; Model.free()
// throws SM_ERR_BUSY while sessions (or decoders of its tokenizer) are alive. Higher layers
// (worker, streaming) build on this.

import { SmallMindError } from './errors.js';
import { Tokenizer } from './tokenizer.js';
import { loadWasm } from './wasm-loader.js';
import { heapU8 } from './model-loader.js';

/**
 * @typedef {{elementType: string, length: number, head: unknown[]}} MetadataArray
 * @typedef {object} ModelInspection Model.inspect(): a model file's header
 * @property {'gguf' | 'smnd'} format the file's format (docs/SMND.md for SMND)
 * @property {number} version GGUF or SMND version @property {number} alignment @property {number} dataOffset
 * @property {number} parts files (split GGUF)
 * @property {{key: string, type: string, value: string | number | boolean | null | MetadataArray, truncated?: boolean}[]} metadata
 *   in file order; type is GGUF's ('UINT32', 'STRING', 'ARRAY', ...)
 * @property {{name: string, type: string, shape: number[], bytes: number, offset: number}[]} tensors
 */

const SM_OK = 0;
const WASM_ADDRESS_SPACE = 2 ** 32;
const SM_DONE = 1;

export class Engine {
  /** @param {any} mod the instantiated Emscripten module */
  constructor(mod) {
    this.mod = mod;
    this.variant = /** @type {string} */ ('');
    /** @type {boolean} the relaxed-SIMD build (wasm-loader.js) */
    this.relaxedSimd = Boolean(mod.smRelaxedSimd);
    /** @type {string} e.g. "0.1.0 simd128" */
    this.version = mod.UTF8ToString(mod._sm_version());
  }

  /**
   * @param {{variant?: 'simd' | 'mt', relaxedSimd?: boolean, assetsBase?: string | URL}} [opts]
   *   relaxedSimd: the relaxed-SIMD build (default: where the runtime supports it)
   * @returns {Promise<Engine>}
   */
  static async create(opts = {}) {
    const engine = new Engine(await loadWasm(opts));
    engine.variant = opts.variant ?? 'simd';
    return engine;
  }

  /** Stops the threaded build's workers so the process or page can let go of them. The engine
   * must not be used afterwards. */
  dispose() {
    this.mod.smTerminateWorkers?.();
  }

  /** @returns {SmallMindError} the error of the last failed constructor call */
  lastError() {
    const m = this.mod;
    return new SmallMindError(m.UTF8ToString(m._sm_js_error_msg()), m._sm_js_error_code());
  }

  /**
   * Copies GGUF bytes into WASM memory and loads the model from them.
   * @param {Uint8Array} bytes
   * @returns {Model}
   */
  loadModel(bytes) {
    const m = this.mod;
    // wasm32 addresses 4 GiB; refuse at once rather than fail deep inside an allocation
    if (bytes.length > WASM_ADDRESS_SPACE - 64 * 2 ** 20) {
      throw new SmallMindError(`a ${Math.round(bytes.length / 2 ** 20)} MiB file cannot fit WebAssembly's 4 GiB address space`, -2);
    }
    const ptr = m._sm_js_alloc(bytes.length);
    if (!ptr) throw new SmallMindError(`out of WASM memory for a ${bytes.length}-byte model`, -2);
    m.HEAPU8.set(bytes, ptr);
    const handle = m._sm_js_model_load(ptr, bytes.length);
    if (!handle) {
      const err = this.lastError();
      m._sm_js_free(ptr);
      throw err;
    }
    return new Model(this, handle, ptr);
  }

  /**
   * Node, Deno and Bun: reads a model file straight into WASM memory, 8 MiB at a time, and loads
   * it, so no copy of the file is ever held in JS memory (Engine.loadModel(bytes) needs one).
   * @param {string} path
   * @param {{onProgress?: (done: number, total: number) => void}} [opts]
   * @returns {Promise<Model>}
   */
  async loadModelFile(path, opts = {}) {
    const m = this.mod;
    const { open } = await import('node:fs/promises');
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      if (size > WASM_ADDRESS_SPACE - 64 * 2 ** 20) {
        throw new SmallMindError(`a ${Math.round(size / 2 ** 20)} MiB file cannot fit WebAssembly's 4 GiB address space`, -2);
      }
      const ptr = m._sm_js_alloc(Math.max(1, size));
      if (!ptr) throw new SmallMindError(`out of WASM memory for a ${size}-byte model`, -2);
      try {
        for (let at = 0; at < size;) {
          const { bytesRead } = await fh.read(heapU8(m), ptr + at, Math.min(8 * 2 ** 20, size - at), at);
          if (bytesRead === 0) throw new SmallMindError(`${path} shrank while being read (${at} of ${size} bytes)`, -3);
          at += bytesRead;
          opts.onProgress?.(at, size);
        }
      } catch (e) {
        m._sm_js_free(ptr);
        throw e;
      }
      return this.loadModelFromWasm([{ ptr, size }]);
    } finally {
      await fh.close();
    }
  }

  /**
   * Loads a model from file bytes already in WASM memory (one buffer per split part, in order),
   * taking ownership of the buffers: the model frees them, or this call does when it fails.
   * @param {{ptr: number, size: number}[]} parts from sm_js_alloc
   * @returns {Model}
   */
  loadModelFromWasm(parts) {
    const m = this.mod;
    let handle = 0;
    if (parts.length === 1) {
      handle = m._sm_js_model_load(parts[0].ptr, parts[0].size);
    } else if (typeof m._sm_js_model_load_parts === 'function') {
      // two u32 arrays: the parts' addresses and sizes (each part fits wasm32 memory)
      const ptrs = m._malloc(parts.length * 4);
      const sizes = m._malloc(parts.length * 4);
      parts.forEach((p, i) => { m.HEAPU32[(ptrs >> 2) + i] = p.ptr; m.HEAPU32[(sizes >> 2) + i] = p.size; });
      handle = m._sm_js_model_load_parts(ptrs, sizes, parts.length);
      m._free(ptrs);
      m._free(sizes);
    } else {
      for (const p of parts) m._sm_js_free(p.ptr);
      throw new SmallMindError('this engine build cannot load split GGUF files', -4);
    }
    if (!handle) {
      const err = this.lastError();
      for (const p of parts) m._sm_js_free(p.ptr);
      throw err;
    }
    return new Model(this, handle, parts.map((p) => p.ptr));
  }

  /**
   * Copies GGUF bytes into WASM memory and builds a tokenizer from their tokenizer.* metadata
   * alone: the file may be vocab-only (no tensors). The Tokenizer owns the copy; free() it.
   * @param {Uint8Array} bytes
   * @returns {Tokenizer}
   */
  loadTokenizer(bytes) {
    const m = this.mod;
    const ptr = m._sm_js_alloc(bytes.length);
    if (!ptr) throw new SmallMindError(`out of WASM memory for a ${bytes.length}-byte file`, -2);
    m.HEAPU8.set(bytes, ptr);
    const handle = m._sm_js_tokenizer_load(ptr, bytes.length);
    if (!handle) {
      const err = this.lastError();
      m._sm_js_free(ptr);
      throw err;
    }
    return new Tokenizer(m, handle, { bytesPtr: ptr });
  }
}

/** Calls of each of a loaded model's weight types' kernels before its first prompt: Chromium's V8
 * optimizes a WASM function only after many calls, and at 20 the first 128-token prefill still
 * ran partly unoptimized (src/kern/warmup.c). Under Node 3.5-10 ms per model (15M Q4_0 to
 * TinyLlama Q4_K_M). */
const MODEL_WARMUP_ROUNDS = 2000;

export class Model {
  /** @param {Engine} engine @param {number} handle @param {number | number[]} bytesPtrs the file
   * buffer(s) in WASM memory, freed with the model */
  constructor(engine, handle, bytesPtrs) {
    this.engine = engine;
    this.handle = handle;
    this.bytesPtrs = Array.isArray(bytesPtrs) ? bytesPtrs : [bytesPtrs];
    const m = engine.mod;
    // builds from before the export (a custom wasm directory) simply skip it
    if (typeof m._sm_js_model_warmup === 'function') m._sm_js_model_warmup(handle, MODEL_WARMUP_ROUNDS);
    /** @type {{arch: string, name: string, n_vocab: number, n_ctx_train: number, n_embd: number, n_layer: number, n_head: number, n_head_kv: number, n_ff: number, bos_token: number, eos_token: number, n_params: number, weight_bytes: number}} */
    this.info = JSON.parse(m.UTF8ToString(m._sm_js_model_info(handle)));
    /** @type {Tokenizer | null | undefined} */
    this._tokenizer = undefined;
  }

  /** The model's tokenizer (owned by the model, valid until model.free()), or null when the file
   * has no tokenizer metadata.
   * @returns {Tokenizer | null} */
  get tokenizer() {
    if (this._tokenizer === undefined) {
      const h = this.handle ? this.engine.mod._sm_model_tokenizer(this.handle) : 0;
      this._tokenizer = h ? new Tokenizer(this.engine.mod, h, { owner: this }) : null;
    }
    return this._tokenizer;
  }

  /**
   * Options left out take the engine's defaults (greedy; top-p 1, min-p 0, penalties off over the
   * last 64 tokens); invalid ones throw SmallMindError SM_ERR_INVALID_ARG naming the option.
   * @param {{nCtx?: number, nBatch?: number, threads?: number, temperature?: number, seed?: number,
   *   ignoreEos?: boolean, topK?: number, topP?: number, minP?: number, repeatPenalty?: number,
   *   frequencyPenalty?: number, presencePenalty?: number, penaltyLastN?: number,
   *   memoryBudget?: number, kvType?: 'f16' | 'f32', logitBias?: LogitBias, minParallelWork?: number}} [opts]
   *   logitBias: added to those tokens' logits before sampling (-Infinity bans one); kvType: KV cache
   *   elements (default 'f16', half the memory; 'f32' is exact); minParallelWork: steps of the forward
   *   pass with fewer multiply-adds run on one thread (default 262144; 1 splits every step)
   * @returns {Session}
   */
  createSession(opts = {}) {
    const m = this.engine.mod;
    const h = withSessionOptions(m, opts, (ptr, n, ids, vals, nBias) => m._sm_js_session_new(this.handle, ptr, n, ids, vals, nBias));
    if (!h) throw this.engine.lastError();
    return new Session(this, h);
  }


  /**
   * Bytes a session with these options would need (weights, KV cache, scratch, total), computed
   * before anything is allocated. createSession refuses sessions over the 4 GiB address space.
   * @param {{nCtx?: number, nBatch?: number, threads?: number}} [opts]
   * @returns {{weights: number, kv_cache: number, scratch: number, total: number}}
   */
  estimateMemory(opts = {}) {
    const m = this.engine.mod;
    return JSON.parse(m.UTF8ToString(m._sm_js_model_estimate(this.handle, opts.nCtx ?? 0, opts.nBatch ?? 0, opts.threads ?? 1)));
  }

  /**
   * The file's whole header: every metadata key in file order (arrays as their element type,
   * length and first 16 elements; strings over 64 KiB cut, marked `truncated`) and the tensor
   * table (shape innermost dimension first, bytes as stored, offset in the data section).
   * @returns {ModelInspection}
   */
  inspect() {
    const m = this.engine.mod;
    if (typeof m._sm_js_model_inspect !== 'function') throw new SmallMindError('this engine build cannot list a model\'s metadata (rebuild the WASM modules)', -4);
    const ptr = m._sm_js_model_inspect(this.handle);
    if (!ptr) throw new SmallMindError('out of WASM memory listing the model\'s metadata', -2);
    let raw;
    try {
      raw = JSON.parse(m.UTF8ToString(ptr));
    } finally {
      m._sm_js_free(ptr);
    }
    /** @param {any} v @returns {any} */
    const arrayValue = (v) => ({ elementType: v.element_type, length: v.length,
      head: v.element_type === 'ARRAY' ? v.head.map((/** @type {any} */ x) => (x ? arrayValue(x) : x))
        : v.element_type === 'FLOAT32' ? v.head.map(shortestF32) : v.head });
    return {
      format: raw.format ?? 'gguf', version: raw.version, alignment: raw.alignment, dataOffset: raw.data_offset, parts: raw.n_parts,
      metadata: raw.metadata.map((/** @type {any} */ e) => ({ key: e.key, type: e.type,
        value: e.type === 'ARRAY' ? arrayValue(e.value) : e.type === 'FLOAT32' ? shortestF32(e.value) : e.value,
        ...(e.truncated ? { truncated: true } : {}) })),
      tensors: raw.tensors,
    };
  }

  free() {
    if (!this.handle) return;
    const m = this.engine.mod;
    if (this._tokenizer?.decoders.size) {
      throw new SmallMindError('the model\'s tokenizer still has live decoders; free them first', -7);
    }
    const st = m._sm_model_free(this.handle);
    if (st !== SM_OK) throw new SmallMindError('the model still has live sessions; free them first', st);
    for (const p of this.bytesPtrs) m._sm_js_free(p);
    this.handle = 0;
    if (this._tokenizer) this._tokenizer.handle = 0;
  }
}

/**
 * Logit bias: token id → value added to its logit; an object, a Map, or [id, value] pairs.
 * @typedef {Record<number, number> | Map<number, number> | [number, number][]} LogitBias
 */

/**
 * Writes session options (in src/wasm/exports.c's JS_OPT_* order; NaN = default) and the logit
 * bias into WASM memory for the duration of `call`.
 * @param {any} m @param {Record<string, any>} opts
 * @param {(ptr: number, n: number, biasIds: number, biasValues: number, nBias: number) => number} call
 */
function withSessionOptions(m, opts, call) {
  const values = [opts.nCtx, opts.nBatch, opts.threads ?? 1, opts.temperature, opts.seed,
    opts.ignoreEos === undefined ? undefined : Number(opts.ignoreEos), opts.topK, opts.topP, opts.minP,
    opts.repeatPenalty, opts.frequencyPenalty, opts.presencePenalty, opts.penaltyLastN, opts.memoryBudget,
    opts.kvType === undefined ? undefined : ({ f16: 1, f32: 2 })[/** @type {'f16' | 'f32'} */ (opts.kvType)] ?? -1,
    opts.minParallelWork]
    .map((v) => (v === undefined ? NaN : Number(v)));
  const bias = biasPairs(opts.logitBias);
  const ptr = m._malloc(values.length * 8);
  const ids = m._malloc(Math.max(1, bias.length) * 4);
  const vals = m._malloc(Math.max(1, bias.length) * 4);
  try {
    m.HEAPF64.set(values, ptr >> 3);
    bias.forEach(([id, v], i) => { m.HEAP32[(ids >> 2) + i] = id; m.HEAPF32[(vals >> 2) + i] = v; });
    return call(ptr, values.length, ids, vals, bias.length);
  } finally {
    m._free(ptr);
    m._free(ids);
    m._free(vals);
  }
}

/** @param {LogitBias | undefined} b @returns {[number, number][]} */
function biasPairs(b) {
  if (b === undefined || b === null) return [];
  const pairs = b instanceof Map ? [...b.entries()] : Array.isArray(b) ? b : Object.entries(b).map(([k, v]) => [Number(k), v]);
  return pairs.map(([id, v]) => {
    // ids outside int32 or the vocabulary are rejected by the engine with the id in the message
    const n = Number(id);
    return [Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 ? n : -1, Number(v)];
  });
}

/** The shortest decimal that reads back as the same float32 (1e-5, not 0.00000999999975).
 * @param {number | null} x */
function shortestF32(x) {
  if (typeof x !== 'number' || !Number.isFinite(x)) return x;
  const f = Math.fround(x);
  for (let p = 1; p < 9; p++) {
    const y = Number(f.toPrecision(p));
    if (Math.fround(y) === f) return y;
  }
  return f;
}

export class Session {
  /** @param {Model} model @param {number} handle */
  constructor(model, handle) {
    this.model = model;
    this.mod = model.engine.mod;
    this.handle = handle;
    this.tokPtr = this.mod._malloc(4);
  }

  /** @param {number} status */
  check(status) {
    if (status < 0) throw new SmallMindError(this.mod.UTF8ToString(this.mod._sm_session_last_error(this.handle)), status);
    return status;
  }

  /**
   * Appends tokens to the context and runs them through the model as batches.
   * @param {ArrayLike<number>} tokens
   */
  decode(tokens) {
    const m = this.mod;
    const ptr = m._malloc(Math.max(1, tokens.length) * 4);
    try {
      m.HEAP32.set(Int32Array.from(tokens), ptr >> 2);
      this.check(m._sm_session_decode(this.handle, ptr, tokens.length));
    } finally {
      m._free(ptr);
    }
  }

  /**
   * Changes the sampling options (temperature, topK, topP, minP, penalties, penaltyLastN, seed,
   * ignoreEos, logitBias) and keeps the context. Options left out take the engine's defaults.
   * @param {Record<string, any>} opts
   */
  setSampling(opts) {
    const m = this.mod;
    this.check(withSessionOptions(m, opts, (ptr, n, ids, vals, nBias) => m._sm_js_session_set_sampling(this.handle, ptr, n, ids, vals, nBias)));
  }

  /** @returns {number | null} the next token, or null when generation is done */
  step() {
    const st = this.check(this.mod._sm_session_step(this.handle, this.tokPtr));
    if (st === SM_DONE) return null;
    return this.mod.HEAP32[this.tokPtr >> 2];
  }

  /** @returns {Float32Array | null} a copy of the last position's logits */
  logits() {
    const ptr = this.mod._sm_session_logits(this.handle);
    if (!ptr) return null;
    return this.mod.HEAPF32.slice(ptr >> 2, (ptr >> 2) + this.model.info.n_vocab);
  }

  get nPast() { return this.mod._sm_session_n_past(this.handle); }

  /** @param {number} nKeep */
  rewind(nKeep) { this.check(this.mod._sm_session_rewind(this.handle, nKeep)); }

  free() {
    if (!this.handle) return;
    this.mod._sm_session_free(this.handle);
    this.mod._free(this.tokPtr);
    this.handle = 0;
  }
}
