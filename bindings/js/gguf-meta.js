// gguf-meta.js — reads one string from a GGUF file's metadata (the key/value section after the
// header), e.g. tokenizer.chat_template, for the engine host.
//
// The engine exports sm_js_model_meta_str in newer builds; modelMetaString() uses it when present
// and otherwise parses the metadata from the model's bytes in WASM memory itself. GGUF v2/v3
// little-endian layout: "GGUF", u32 version, u64 tensor count, u64 kv count, then per kv a
// string key (u64 length + UTF-8 bytes), a u32 value type and the value. Every read is checked
// against the end of the buffer: a damaged file gives null, never an out-of-bounds read.

import { heapU8 } from './model-loader.js';

const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
/** byte size of the fixed-size value types (GGUF_TYPE_*) */
const FIXED_SIZE = /** @type {Record<number, number>} */ ({ 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 });
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;
const MAX_NESTING = 8;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const encoder = new TextEncoder();

class OutOfBounds extends Error {}

/**
 * The string stored under `key` in a GGUF file's metadata.
 * @param {Uint8Array} bytes the file from its first byte (at least through the metadata)
 * @param {string} key
 * @returns {string | null} null when the key is absent, not a string, or the header is damaged
 */
export function ggufMetaString(bytes, key) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  let at = 0;
  /** @param {number} n */
  const need = (n) => { if (n < 0 || at + n > end) throw new OutOfBounds(); };
  const u32 = () => { need(4); const v = view.getUint32(at, true); at += 4; return v; };
  const u64 = () => {
    need(8);
    const lo = view.getUint32(at, true), hi = view.getUint32(at + 4, true);
    at += 8;
    // lengths and counts past 2^53 cannot be real (and cannot fit the buffer)
    if (hi >= 2 ** 21) throw new OutOfBounds();
    return hi * 2 ** 32 + lo;
  };
  /** @param {number} type @param {number} depth */
  const skipValue = (type, depth) => {
    const fixed = FIXED_SIZE[type];
    if (fixed !== undefined) { need(fixed); at += fixed; return; }
    if (type === TYPE_STRING) { const n = u64(); need(n); at += n; return; }
    if (type === TYPE_ARRAY && depth < MAX_NESTING) {
      const elem = u32();
      const count = u64();
      const size = FIXED_SIZE[elem];
      if (size !== undefined) { need(count * size); at += count * size; return; }
      for (let i = 0; i < count; i++) skipValue(elem, depth + 1);
      return;
    }
    throw new OutOfBounds(); // an unknown type: the rest cannot be walked
  };
  const want = encoder.encode(key);
  try {
    if (u32() !== GGUF_MAGIC) return null;
    const version = u32();
    if (version !== 2 && version !== 3) return null; // v1 has 32-bit lengths; larger: big-endian files
    u64(); // tensor count
    const nKv = u64();
    for (let i = 0; i < nKv; i++) {
      const keyLen = u64();
      need(keyLen);
      const keyAt = at;
      at += keyLen;
      const type = u32();
      if (keyLen === want.length && sameBytes(bytes, keyAt, want)) {
        if (type !== TYPE_STRING) return null;
        const n = u64();
        need(n);
        // a copy: TextDecoder refuses views of shared memory (the threaded build)
        return utf8.decode(bytes.slice(at, at + n));
      }
      skipValue(type, 0);
    }
    return null;
  } catch (e) {
    if (e instanceof OutOfBounds) return null;
    throw e;
  }
}

/** @param {Uint8Array} bytes @param {number} at @param {Uint8Array} want */
function sameBytes(bytes, at, want) {
  for (let i = 0; i < want.length; i++) if (bytes[at + i] !== want[i]) return false;
  return true;
}

/**
 * A metadata string of a loaded model: through the engine's sm_js_model_meta_str when the build
 * has it, else parsed from the file bytes the model keeps in WASM memory.
 * @param {any} mod the Emscripten module
 * @param {number} handle the sm_model*
 * @param {{ptr: number, size: number}} firstPart the model's (first) file buffer in WASM memory
 * @param {string} key
 * @returns {string | null}
 */
export function modelMetaString(mod, handle, firstPart, key) {
  if (typeof mod._sm_js_model_meta_str === 'function') {
    const keyBytes = encoder.encode(key);
    const keyPtr = mod._malloc(keyBytes.length + 1 + 8);
    if (!keyPtr) return null;
    try {
      heapU8(mod).set(keyBytes, keyPtr);
      heapU8(mod)[keyPtr + keyBytes.length] = 0;
      const lenPtr = (keyPtr + keyBytes.length + 1 + 3) & ~3; // the u32 (size_t) it writes, aligned
      const p = mod._sm_js_model_meta_str(handle, keyPtr, lenPtr);
      const h = heapU8(mod);
      const n = new DataView(h.buffer).getUint32(lenPtr, true);
      return p ? utf8.decode(h.slice(p, p + n)) : null;
    } finally {
      mod._free(keyPtr);
    }
  }
  const h = heapU8(mod);
  if (!firstPart || firstPart.ptr <= 0 || firstPart.ptr + firstPart.size > h.length) return null;
  return ggufMetaString(h.subarray(firstPart.ptr, firstPart.ptr + firstPart.size), key);
}
