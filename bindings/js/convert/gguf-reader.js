// gguf-reader.js — reads a GGUF file's header (key/values and tensor infos) for the converters,
// leaving tensor data in the file until a writer asks for it. The inverse of gguf-writer.js: what it
// reads, writeGguf writes back byte for byte (same key order, value types, tensor order, alignment).
// Not the engine's parser (src/io/gguf.c loads models); this one only moves bytes between formats.
// Follows the GGUF spec (ggml docs/gguf.md), versions 2 and 3, little-endian.

import { SmallMindError, SM_ERR_FORMAT, SM_ERR_INVALID_ARG, SM_ERR_UNSUPPORTED } from '../errors.js';

const SM_ERR_VERSION = -8;
import { GGML_BLOCK, GGUF_TYPE, ggmlTensorBytes } from './gguf-writer.js';

/**
 * A tensor of a model being converted: `dims` innermost first (ggml's ne); `data()` reads its
 * bytes when a writer reaches it.
 * @typedef {{name: string, type: number, dims: number[], nBytes: number,
 *   data: () => Promise<Uint8Array>}} ModelTensor
 */

/**
 * A model's content in any format, in file order: typed key/values and tensors.
 * @typedef {object} ModelContent
 * @property {Array<[string, import('./gguf-writer.js').GgufValue]>} metadata
 * @property {ModelTensor[]} tensors
 * @property {Record<string, unknown>} [provenance] SMND's provenance object, when read from SMND
 */

class NeedMore extends Error {}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** @param {Uint8Array} b @returns {string | Uint8Array} the text, or the bytes when not UTF-8 */
export function bytesToString(b) {
  try {
    return decoder.decode(b);
  } catch {
    return b.slice();
  }
}

const ARRAY_CTORS = /** @type {Record<number, any>} */ ({
  [GGUF_TYPE.UINT8]: Uint8Array, [GGUF_TYPE.INT8]: Int8Array, [GGUF_TYPE.UINT16]: Uint16Array,
  [GGUF_TYPE.INT16]: Int16Array, [GGUF_TYPE.UINT32]: Uint32Array, [GGUF_TYPE.INT32]: Int32Array,
  [GGUF_TYPE.FLOAT32]: Float32Array, [GGUF_TYPE.UINT64]: BigUint64Array, [GGUF_TYPE.INT64]: BigInt64Array,
  [GGUF_TYPE.FLOAT64]: Float64Array,
});

/** Element sizes of fixed-size GGUF value types. */
export const GGUF_ELEM_SIZE = /** @type {Record<number, number>} */ ({
  0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8,
});

/** A little-endian cursor over the bytes read so far; past them it throws NeedMore. */
class Cursor {
  /** @param {Uint8Array} b @param {number} fileSize */
  constructor(b, fileSize) {
    this.b = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.pos = 0;
    this.fileSize = fileSize;
  }
  /** @param {number} n @param {string} what */
  need(n, what) {
    if (this.pos + n <= this.b.length) return;
    if (this.pos + n > this.fileSize) {
      throw new SmallMindError(`GGUF: ${what} at offset ${this.pos} runs past the end of the file (${this.fileSize} bytes)`, SM_ERR_FORMAT);
    }
    throw new NeedMore();
  }
  u32(what = 'u32') { this.need(4, what); const v = this.dv.getUint32(this.pos, true); this.pos += 4; return v; }
  u64(what = 'u64') {
    this.need(8, what);
    const v = this.dv.getBigUint64(this.pos, true);
    this.pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new SmallMindError(`GGUF: ${what} ${v} at offset ${this.pos - 8} is implausible`, SM_ERR_FORMAT);
    return Number(v);
  }
  /** @param {number} n @param {string} what */
  bytes(n, what) { this.need(n, what); const v = this.b.subarray(this.pos, this.pos + n); this.pos += n; return v; }
  /** @param {string} what */
  str(what) { return this.bytes(this.u64(what), what); }
}

/**
 * One value of `type` (no type tag before it).
 * @param {Cursor} c @param {number} type @param {string} key
 * @returns {import('./gguf-writer.js').GgufValue}
 */
function readValue(c, type, key) {
  const T = GGUF_TYPE;
  if (type === T.STRING) return { type, value: bytesToString(c.str(key)) };
  if (type === T.ARRAY) {
    const elemType = c.u32(key);
    const n = c.u64(key);
    if (elemType === T.STRING || elemType === T.ARRAY) {
      if (n > c.fileSize) throw new SmallMindError(`GGUF: ${key}: ${n} elements cannot fit the file`, SM_ERR_FORMAT);
      const items = new Array(n);
      for (let i = 0; i < n; i++) {
        items[i] = elemType === T.STRING ? bytesToString(c.str(key)) : readValue(c, T.ARRAY, key);
      }
      return { type, elemType, value: items };
    }
    const size = GGUF_ELEM_SIZE[elemType];
    if (!size) throw new SmallMindError(`GGUF: ${key}: unknown array element type ${elemType}`, SM_ERR_FORMAT);
    const raw = c.bytes(n * size, key).slice();
    if (elemType === T.BOOL) {
      return { type, elemType, value: Array.from(raw, (x) => checkBool(x, key)) };
    }
    return { type, elemType, value: new ARRAY_CTORS[elemType](raw.buffer, 0, n) };
  }
  const size = GGUF_ELEM_SIZE[type];
  if (!size) throw new SmallMindError(`GGUF: key '${key}' has unknown value type ${type}`, SM_ERR_FORMAT);
  const b = c.bytes(size, key);
  const dv = new DataView(b.buffer, b.byteOffset, size);
  switch (type) {
    case T.UINT8: return { type, value: dv.getUint8(0) };
    case T.INT8: return { type, value: dv.getInt8(0) };
    case T.UINT16: return { type, value: dv.getUint16(0, true) };
    case T.INT16: return { type, value: dv.getInt16(0, true) };
    case T.UINT32: return { type, value: dv.getUint32(0, true) };
    case T.INT32: return { type, value: dv.getInt32(0, true) };
    case T.FLOAT32: return { type, value: dv.getFloat32(0, true) };
    case T.FLOAT64: return { type, value: dv.getFloat64(0, true) };
    case T.UINT64: return { type, value: dv.getBigUint64(0, true) };
    case T.INT64: return { type, value: dv.getBigInt64(0, true) };
    default: return { type, value: checkBool(dv.getUint8(0), key) };
  }
}

/** @param {number} x @param {string} key */
function checkBool(x, key) {
  if (x > 1) throw new SmallMindError(`GGUF: ${key}: bool value ${x} is not 0 or 1`, SM_ERR_FORMAT);
  return x === 1;
}

/**
 * Parses the header from the bytes read so far (throws NeedMore when it runs past them).
 * @param {Uint8Array} b @param {number} fileSize
 */
function parseHeader(b, fileSize) {
  const c = new Cursor(b, fileSize);
  const magic = c.bytes(4, 'magic');
  if (String.fromCharCode(...magic) !== 'GGUF') throw new SmallMindError('not a GGUF file (the magic is not "GGUF")', SM_ERR_FORMAT);
  const version = c.u32('version');
  if (version !== 2 && version !== 3) throw new SmallMindError(`GGUF version ${version} is not supported (2 and 3 are)`, SM_ERR_VERSION);
  const nTensors = c.u64('tensor count');
  const nKv = c.u64('key/value count');
  if (nKv > fileSize || nTensors > fileSize) throw new SmallMindError('GGUF: counts cannot fit the file', SM_ERR_FORMAT);
  /** @type {Array<[string, import('./gguf-writer.js').GgufValue]>} */
  const metadata = [];
  const keys = new Set();
  for (let i = 0; i < nKv; i++) {
    const kb = c.str('key');
    const key = bytesToString(kb);
    if (typeof key !== 'string') throw new SmallMindError(`GGUF: key ${i} is not valid UTF-8`, SM_ERR_UNSUPPORTED);
    if (keys.has(key)) throw new SmallMindError(`GGUF: duplicate key '${key}'`, SM_ERR_FORMAT);
    keys.add(key);
    metadata.push([key, readValue(c, c.u32(key), key)]);
  }
  const infos = [];
  for (let i = 0; i < nTensors; i++) {
    const name = bytesToString(c.str('tensor name'));
    if (typeof name !== 'string') throw new SmallMindError(`GGUF: tensor ${i}'s name is not valid UTF-8`, SM_ERR_UNSUPPORTED);
    const nDims = c.u32(name);
    if (nDims < 1 || nDims > 4) throw new SmallMindError(`GGUF: tensor '${name}' has ${nDims} dimensions`, SM_ERR_FORMAT);
    const dims = [];
    for (let d = 0; d < nDims; d++) dims.push(c.u64(name));
    const type = c.u32(name);
    const offset = c.u64(name);
    infos.push({ name, dims, type, offset });
  }
  const align = metadata.find(([k]) => k === 'general.alignment');
  const alignment = align ? Number(align[1].value) : 32;
  if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
    throw new SmallMindError(`GGUF: general.alignment ${alignment} is not a power of two`, SM_ERR_FORMAT);
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  return { version, metadata, infos, alignment, dataOffset };
}

/**
 * Reads a GGUF file's header. Tensor data stays in the input: each tensor's data() reads it.
 * A part of a split model (split.count > 1) is refused: merge the parts first.
 * @param {import('./file.js').Input} input
 * @returns {Promise<ModelContent & {version: number, alignment: number, dataOffset: number}>}
 */
export async function readGguf(input) {
  let have = Math.min(input.size, 1 << 20);
  for (;;) {
    const b = await input.read(0, have);
    let h;
    try {
      h = parseHeader(b, input.size);
    } catch (e) {
      if (!(e instanceof NeedMore)) throw e;
      have = Math.min(input.size, have * 4);
      continue;
    }
    const split = h.metadata.find(([k]) => k === 'split.count');
    if (split && Number(split[1].value) > 1) {
      throw new SmallMindError('this GGUF is one part of a split model: merge the parts (llama.cpp\'s gguf-split --merge) before converting', SM_ERR_INVALID_ARG);
    }
    /** @type {ModelTensor[]} */
    const tensors = h.infos.map((t) => {
      if (!GGML_BLOCK[t.type]) throw new SmallMindError(`GGUF: tensor '${t.name}' has type ${t.type}, which the converters do not know`, SM_ERR_UNSUPPORTED);
      let nBytes;
      try {
        nBytes = ggmlTensorBytes(t.type, t.dims);
      } catch (e) {
        throw new SmallMindError(`GGUF: tensor '${t.name}': ${/** @type {Error} */ (e).message}`, SM_ERR_FORMAT);
      }
      const at = h.dataOffset + t.offset;
      if (at + nBytes > input.size) {
        throw new SmallMindError(`GGUF: tensor '${t.name}' ends at byte ${at + nBytes} but the file has ${input.size} (truncated?)`, SM_ERR_FORMAT);
      }
      return {
        name: t.name, type: t.type, dims: t.dims, nBytes,
        data: async () => {
          const d = await input.read(at, nBytes);
          if (d.length !== nBytes) throw new SmallMindError(`GGUF: tensor '${t.name}' is truncated`, SM_ERR_FORMAT);
          return d;
        },
      };
    });
    return { version: h.version, metadata: h.metadata, tensors, alignment: h.alignment, dataOffset: h.dataOffset };
  }
}
