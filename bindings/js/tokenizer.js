// tokenizer.js — text ⇄ token ids over the C tokenizer (src/tok), synchronous like engine.js.
//
// A Tokenizer comes from Engine.loadTokenizer(bytes) (a GGUF file's tokenizer.* metadata alone;
// the file may hold no tensors) and owns a copy of those bytes in WASM memory, or from
// model.tokenizer, which the model owns (freeing the model invalidates it). Text goes in as a JS
// string (encoded to UTF-8) or as raw bytes (Uint8Array, passed exactly as given). A Decoder turns
// ids into text one token at a time, holding back a partial UTF-8 character until it is complete.

import { SmallMindError, STATUS_NAMES } from './errors.js';

const SM_TOKENIZE_ADD_SPECIAL = 1;
const SM_TOKENIZE_PARSE_SPECIAL = 2;
const SM_DETOK_RENDER_SPECIAL = 1;
const SM_DETOK_CONTINUATION = 2;
const SM_ERR_INVALID_ARG = -1;
const SM_ERR_NOMEM = -2;
const SM_ERR_BUSY = -7;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * @typedef {object} TokenizerInfo
 * @property {'llama' | 'gpt2' | 'bert' | 'char' | string} kind tokenizer.ggml.model
 * @property {string} pre BPE pre-tokenizer in use ("default", "llama-bpe", ...)
 * @property {string} warning "" or why something fell back (e.g. an unknown pre-tokenizer)
 * @property {number} n_tokens vocabulary size
 * @property {number} bos @property {number} eos @property {number} eot
 * @property {number} unk @property {number} pad @property {number} sep ids, -1 when absent
 * @property {boolean} add_bos @property {boolean} add_eos what addSpecial adds
 */

/**
 * @typedef {object} DecodeOptions
 * @property {boolean} [renderSpecial] write control tokens' text (default: they render as "")
 * @property {boolean} [continuation] the ids continue earlier text (generation after a prompt):
 *   keep the first token's leading space, which SentencePiece detokenization otherwise drops
 */

/** @param {number} status @param {string} what */
function statusError(status, what) {
  return new SmallMindError(`${what} failed: ${STATUS_NAMES[status] ?? status}`, status);
}

/** @param {Uint8Array} heap */
function isShared(heap) {
  return typeof SharedArrayBuffer === 'function' && heap.buffer instanceof SharedArrayBuffer;
}

/** @param {any} mod @param {number} size */
function mallocOrThrow(mod, size) {
  const p = mod._malloc(Math.max(1, size));
  if (!p) throw new SmallMindError(`out of WASM memory (${size} bytes)`, SM_ERR_NOMEM);
  return p;
}

export class Tokenizer {
  /**
   * Use Engine.loadTokenizer() or Model.tokenizer rather than this constructor.
   * @param {any} mod the Emscripten module
   * @param {number} handle sm_tokenizer*
   * @param {{bytesPtr?: number, owner?: object}} [own] bytesPtr: file bytes this object frees;
   *   owner: the Model that owns the handle (free() is then a no-op)
   */
  constructor(mod, handle, own = {}) {
    this.mod = mod;
    this.handle = handle;
    this.bytesPtr = own.bytesPtr ?? 0;
    this.owner = own.owner ?? null;
    /** @type {Set<Decoder>} */
    this.decoders = new Set();
    /** @type {TokenizerInfo} */
    this.info = JSON.parse(mod.UTF8ToString(mod._sm_js_tokenizer_info(handle)));
  }

  ensureLive() {
    if (!this.handle) throw new SmallMindError('the tokenizer was freed (or its model was)', SM_ERR_INVALID_ARG);
  }

  /**
   * Splits text into token ids.
   * @param {string | Uint8Array} text a string (encoded as UTF-8) or raw bytes, used exactly
   * @param {{addSpecial?: boolean, addBos?: boolean, parseSpecial?: boolean}} [opts] addSpecial
   *   (alias addBos): BOS/EOS (or [CLS]/[SEP]) as the file's metadata asks; parseSpecial: text
   *   such as "<|im_start|>" becomes its special token (leave off for untrusted text)
   * @returns {Int32Array}
   */
  tokenize(text, opts = {}) {
    this.ensureLive();
    const m = this.mod;
    const addSpecial = opts.addSpecial ?? opts.addBos;
    const flags = (addSpecial ? SM_TOKENIZE_ADD_SPECIAL : 0) | (opts.parseSpecial ? SM_TOKENIZE_PARSE_SPECIAL : 0);
    let textPtr = 0;
    let len = 0;
    if (typeof text === 'string') {
      if (isShared(m.HEAPU8)) {
        // browsers refuse encodeInto() on shared memory (the threaded build): encode, then copy
        const bytes = encoder.encode(text);
        textPtr = mallocOrThrow(m, bytes.length);
        m.HEAPU8.set(bytes, textPtr);
        len = bytes.length;
      } else {
        const cap = text.length * 3; // UTF-16 code unit -> at most 3 bytes of UTF-8
        textPtr = mallocOrThrow(m, cap);
        len = encoder.encodeInto(text, m.HEAPU8.subarray(textPtr, textPtr + cap)).written;
      }
    } else if (text instanceof Uint8Array) {
      textPtr = mallocOrThrow(m, text.length);
      m.HEAPU8.set(text, textPtr);
      len = text.length;
    } else {
      throw new TypeError('tokenize() takes a string or a Uint8Array');
    }
    let nMax = len + 8;
    let outPtr = 0;
    try {
      for (;;) {
        outPtr = mallocOrThrow(m, nMax * 4);
        const n = m._sm_js_tokenize(this.handle, textPtr, len, flags, outPtr, nMax);
        if (n < 0) throw statusError(n, 'tokenize');
        if (n <= nMax) return m.HEAP32.slice(outPtr >> 2, (outPtr >> 2) + n);
        m._free(outPtr);
        outPtr = 0;
        nMax = n;
      }
    } finally {
      if (outPtr) m._free(outPtr);
      m._free(textPtr);
    }
  }

  /**
   * Turns ids back into text (control tokens render as "" unless renderSpecial).
   * @param {ArrayLike<number>} ids
   * @param {DecodeOptions} [opts]
   * @returns {string}
   */
  detokenize(ids, opts = {}) {
    const d = this.createDecoder(opts);
    try {
      const parts = [];
      for (let i = 0; i < ids.length; i++) parts.push(d.pushBytes(ids[i]));
      parts.push(d.flushBytes());
      return decoder.decode(concat(parts));
    } finally {
      d.free();
    }
  }

  /**
   * The bytes one token stands for; possibly part of a UTF-8 character.
   * @param {number} id
   * @param {{renderSpecial?: boolean}} [opts]
   * @returns {Uint8Array}
   */
  tokenToPiece(id, opts = {}) {
    this.ensureLive();
    const m = this.mod;
    const flags = opts.renderSpecial ? SM_DETOK_RENDER_SPECIAL : 0;
    let cap = 64;
    for (;;) {
      const buf = mallocOrThrow(m, cap);
      try {
        const n = m._sm_js_token_to_piece(this.handle, id, flags, buf, cap);
        if (n < 0) throw statusError(n, `token_to_piece(${id})`);
        if (n <= cap) return m.HEAPU8.slice(buf, buf + n);
        cap = n;
      } finally {
        m._free(buf);
      }
    }
  }

  /**
   * A streaming decoder: push ids one by one, get text that is always whole characters.
   * @param {DecodeOptions} [opts]
   * @returns {Decoder}
   */
  createDecoder(opts = {}) {
    this.ensureLive();
    const m = this.mod;
    const flags = (opts.renderSpecial ? SM_DETOK_RENDER_SPECIAL : 0) | (opts.continuation ? SM_DETOK_CONTINUATION : 0);
    const h = m._sm_js_detokenizer_new(this.handle, flags);
    if (!h) throw new SmallMindError(m.UTF8ToString(m._sm_js_error_msg()), m._sm_js_error_code());
    const d = new Decoder(this, h);
    this.decoders.add(d);
    return d;
  }

  /** Frees the tokenizer and its copy of the file. Throws SM_ERR_BUSY while decoders are alive.
   * A model's tokenizer is freed with the model: free() on it does nothing. */
  free() {
    if (!this.handle || this.owner) return;
    if (this.decoders.size) throw new SmallMindError('the tokenizer still has live decoders; free them first', SM_ERR_BUSY);
    this.mod._sm_tokenizer_free(this.handle);
    this.mod._sm_js_free(this.bytesPtr);
    this.handle = 0;
  }
}

export class Decoder {
  /** @param {Tokenizer} tokenizer @param {number} handle sm_detokenizer* */
  constructor(tokenizer, handle) {
    this.tokenizer = tokenizer;
    this.mod = tokenizer.mod;
    this.handle = handle;
    this.cap = 256;
    this.buf = mallocOrThrow(this.mod, this.cap);
  }

  /** @param {(buf: number, cap: number) => number} call @param {string} what */
  run(call, what) {
    if (!this.handle) throw new SmallMindError('the decoder was freed', SM_ERR_INVALID_ARG);
    this.tokenizer.ensureLive();
    for (;;) {
      const n = call(this.buf, this.cap);
      if (n < 0) throw statusError(n, what);
      if (n <= this.cap) return this.mod.HEAPU8.slice(this.buf, this.buf + n);
      // nothing was consumed: grow and call again
      this.mod._free(this.buf);
      this.buf = 0;
      this.cap = n;
      this.buf = mallocOrThrow(this.mod, this.cap);
    }
  }

  /** @param {number} id @returns {Uint8Array} UTF-8 of the text that became complete */
  pushBytes(id) {
    return this.run((b, c) => this.mod._sm_js_detokenizer_push(this.handle, id, b, c), `detokenize(${id})`);
  }

  /** @returns {Uint8Array} held-back bytes, each as U+FFFD */
  flushBytes() {
    return this.run((b, c) => this.mod._sm_js_detokenizer_flush(this.handle, b, c), 'detokenizer flush');
  }

  /** Adds one token. @param {number} id @returns {string} the text that became complete ("" when
   * the token ends inside a character) */
  push(id) { return decoder.decode(this.pushBytes(id)); }

  /** Ends the stream. @returns {string} bytes that never became a character, as U+FFFD each */
  flush() { return decoder.decode(this.flushBytes()); }

  free() {
    if (!this.handle) return;
    this.mod._sm_detokenizer_free(this.handle);
    if (this.buf) this.mod._free(this.buf);
    this.handle = 0;
    this.buf = 0;
    this.tokenizer.decoders.delete(this);
  }
}

/** @param {Uint8Array[]} parts */
function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
