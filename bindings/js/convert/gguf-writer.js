// GGUF v3 writer: metadata of every GGUF value type plus tensors whose bytes are already encoded.
// It is not a quantizer and not a reader: callers hand it finished blocks in ggml's layout.
// Follows the GGUF spec (ggml docs/gguf.md): little-endian header "GGUF", version 3, u64 counts,
// key/value pairs, tensor infos (offsets relative to the data section), then tensor data with every
// tensor starting on a multiple of `general.alignment` (default 32), zero padded.
// Files are written to a temporary sibling and renamed, so a half-written file never has the final name.

import { open, rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';

/** GGUF metadata value type ids. */
export const GGUF_TYPE = Object.freeze({
    UINT8: 0, INT8: 1, UINT16: 2, INT16: 3, UINT32: 4, INT32: 5, FLOAT32: 6,
    BOOL: 7, STRING: 8, ARRAY: 9, UINT64: 10, INT64: 11, FLOAT64: 12,
});

/**
 * ggml tensor type ids (the subset this project writes; ids as in ggml.h).
 * @type {Readonly<Record<string, number>>}
 */
export const GGML_TYPE = Object.freeze({
    F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q5_0: 6, Q5_1: 7, Q8_0: 8, Q8_1: 9,
    Q2_K: 10, Q3_K: 11, Q4_K: 12, Q5_K: 13, Q6_K: 14, Q8_K: 15, I8: 24, I16: 25, I32: 26,
    I64: 27, F64: 28, BF16: 30,
});

/**
 * Block geometry per ggml type: `blck` values per block, `size` bytes per block.
 * @type {Readonly<Record<number, {name: string, blck: number, size: number}>>}
 */
export const GGML_BLOCK = Object.freeze({
    0: { name: 'F32', blck: 1, size: 4 },
    1: { name: 'F16', blck: 1, size: 2 },
    2: { name: 'Q4_0', blck: 32, size: 18 },
    3: { name: 'Q4_1', blck: 32, size: 20 },
    6: { name: 'Q5_0', blck: 32, size: 22 },
    7: { name: 'Q5_1', blck: 32, size: 24 },
    8: { name: 'Q8_0', blck: 32, size: 34 },
    9: { name: 'Q8_1', blck: 32, size: 36 },
    10: { name: 'Q2_K', blck: 256, size: 84 },
    11: { name: 'Q3_K', blck: 256, size: 110 },
    12: { name: 'Q4_K', blck: 256, size: 144 },
    13: { name: 'Q5_K', blck: 256, size: 176 },
    14: { name: 'Q6_K', blck: 256, size: 210 },
    15: { name: 'Q8_K', blck: 256, size: 292 },
    24: { name: 'I8', blck: 1, size: 1 },
    25: { name: 'I16', blck: 1, size: 2 },
    26: { name: 'I32', blck: 1, size: 4 },
    27: { name: 'I64', blck: 1, size: 8 },
    28: { name: 'F64', blck: 1, size: 8 },
    30: { name: 'BF16', blck: 1, size: 2 },
});

export const GGUF_DEFAULT_ALIGNMENT = 32;

/**
 * A typed metadata value. Numbers need an explicit type because llama.cpp checks key types
 * (e.g. `llama.rope.freq_base` must be FLOAT32); strings and booleans may be given bare.
 * For ARRAY, `elemType` is the element type and `value` the elements (an array, a typed array,
 * or for nested arrays a list of GgufValue of type ARRAY).
 * @typedef {{type: number, value: any, elemType?: number}} GgufValue
 */

/**
 * One tensor. `dims` is ggml's `ne`, innermost (contiguous) dimension first, so a PyTorch
 * weight of shape [out][in] has dims [in, out]. `data` holds the encoded bytes, or is a function
 * returning them when the writer reaches this tensor (lets large files stream; writeGguf also
 * takes an async function).
 * @typedef {{name: string, type: number, dims: number[],
 *   data: Uint8Array | (() => Uint8Array) | (() => Promise<Uint8Array>)}} GgufTensor
 */

/**
 * @typedef {object} GgufContent
 * @property {Array<[string, GgufValue | string | boolean]> | Map<string, GgufValue | string | boolean>} metadata
 *   keys in file order
 * @property {GgufTensor[]} tensors tensors in file order
 * @property {number} [alignment] data alignment; added as `general.alignment` (UINT32) unless 32
 *   or already present (then both must agree)
 */

// ---- value constructors ------------------------------------------------------------------------

/** @param {number} type @param {any} value @returns {GgufValue} */
const mk = (type, value) => ({ type, value });
export const u8 = (/** @type {number} */ v) => mk(GGUF_TYPE.UINT8, v);
export const i8 = (/** @type {number} */ v) => mk(GGUF_TYPE.INT8, v);
export const u16 = (/** @type {number} */ v) => mk(GGUF_TYPE.UINT16, v);
export const i16 = (/** @type {number} */ v) => mk(GGUF_TYPE.INT16, v);
export const u32 = (/** @type {number} */ v) => mk(GGUF_TYPE.UINT32, v);
export const i32 = (/** @type {number} */ v) => mk(GGUF_TYPE.INT32, v);
export const u64 = (/** @type {number | bigint} */ v) => mk(GGUF_TYPE.UINT64, v);
export const i64 = (/** @type {number | bigint} */ v) => mk(GGUF_TYPE.INT64, v);
export const f32 = (/** @type {number} */ v) => mk(GGUF_TYPE.FLOAT32, v);
export const f64 = (/** @type {number} */ v) => mk(GGUF_TYPE.FLOAT64, v);
export const bool = (/** @type {boolean} */ v) => mk(GGUF_TYPE.BOOL, v);
export const str = (/** @type {string} */ v) => mk(GGUF_TYPE.STRING, v);
/**
 * An array value. For an array of arrays pass `GGUF_TYPE.ARRAY` and a list of `arr(...)` values.
 * @param {number} elemType @param {ArrayLike<any>} values @returns {GgufValue}
 */
export const arr = (elemType, values) => ({ type: GGUF_TYPE.ARRAY, elemType, value: values });

// ---- byte sink ---------------------------------------------------------------------------------

/** Growable little-endian byte buffer for the header. */
class ByteSink {
    constructor(cap = 1 << 16) {
        this.buf = new Uint8Array(cap);
        this.view = new DataView(this.buf.buffer);
        this.len = 0;
    }
    /** @param {number} n */
    reserve(n) {
        if (this.len + n <= this.buf.length) return;
        let cap = this.buf.length * 2;
        while (cap < this.len + n) cap *= 2;
        const next = new Uint8Array(cap);
        next.set(this.buf.subarray(0, this.len));
        this.buf = next;
        this.view = new DataView(next.buffer);
    }
    /** @param {Uint8Array} b */
    bytes(b) { this.reserve(b.length); this.buf.set(b, this.len); this.len += b.length; }
    /** @param {number} n */
    zeros(n) { this.reserve(n); this.buf.fill(0, this.len, this.len + n); this.len += n; }
    /** @param {(v: DataView, o: number) => void} fn @param {number} n */
    put(fn, n) { this.reserve(n); fn(this.view, this.len); this.len += n; }
    u8(/** @type {number} */ x) { this.put((v, o) => v.setUint8(o, x), 1); }
    u32(/** @type {number} */ x) { this.put((v, o) => v.setUint32(o, x, true), 4); }
    u64(/** @type {number | bigint} */ x) { this.put((v, o) => v.setBigUint64(o, BigInt(x), true), 8); }
    /** @param {string} s */
    string(s) {
        const b = new TextEncoder().encode(s);
        this.u64(b.length);
        this.bytes(b);
    }
    result() { return this.buf.subarray(0, this.len); }
}

/**
 * @param {number} type @param {any} x @param {string} key
 */
function checkScalar(type, x, key) {
    const T = GGUF_TYPE;
    /** @type {Record<number, [number, number]>} */
    const ranges = {
        [T.UINT8]: [0, 0xff], [T.INT8]: [-0x80, 0x7f], [T.UINT16]: [0, 0xffff],
        [T.INT16]: [-0x8000, 0x7fff], [T.UINT32]: [0, 0xffffffff], [T.INT32]: [-0x80000000, 0x7fffffff],
    };
    const r = ranges[type];
    if (r && !(Number.isInteger(x) && x >= r[0] && x <= r[1])) {
        throw new RangeError(`gguf: ${key}: ${x} does not fit type ${type}`);
    }
    if ((type === T.FLOAT32 || type === T.FLOAT64) && typeof x !== 'number') {
        throw new TypeError(`gguf: ${key}: ${x} is not a number`);
    }
}

/**
 * Writes one scalar (no type tag).
 * @param {ByteSink} s @param {number} type @param {any} x @param {string} key
 */
function writeScalar(s, type, x, key) {
    const T = GGUF_TYPE;
    checkScalar(type, x, key);
    switch (type) {
        case T.UINT8: return s.put((v, o) => v.setUint8(o, x), 1);
        case T.INT8: return s.put((v, o) => v.setInt8(o, x), 1);
        case T.UINT16: return s.put((v, o) => v.setUint16(o, x, true), 2);
        case T.INT16: return s.put((v, o) => v.setInt16(o, x, true), 2);
        case T.UINT32: return s.put((v, o) => v.setUint32(o, x, true), 4);
        case T.INT32: return s.put((v, o) => v.setInt32(o, x, true), 4);
        case T.FLOAT32: return s.put((v, o) => v.setFloat32(o, x, true), 4);
        case T.FLOAT64: return s.put((v, o) => v.setFloat64(o, x, true), 8);
        case T.UINT64: return s.put((v, o) => v.setBigUint64(o, BigInt(x), true), 8);
        case T.INT64: return s.put((v, o) => v.setBigInt64(o, BigInt(x), true), 8);
        case T.BOOL:
            if (typeof x !== 'boolean') throw new TypeError(`gguf: ${key}: bool expected`);
            return s.u8(x ? 1 : 0);
        case T.STRING:
            // a Uint8Array is a string's raw bytes (GGUF strings are bytes; not all are UTF-8)
            if (x instanceof Uint8Array) { s.u64(x.length); return s.bytes(x); }
            if (typeof x !== 'string') throw new TypeError(`gguf: ${key}: string expected`);
            return s.string(x);
        default:
            throw new TypeError(`gguf: ${key}: unknown value type ${type}`);
    }
}

/**
 * Writes a value body (no leading type tag). Arrays: elem type u32, count u64, elements; an element
 * of an array of arrays is itself an array body.
 * @param {ByteSink} s @param {GgufValue} val @param {string} key
 */
function writeValueBody(s, val, key) {
    if (val.type !== GGUF_TYPE.ARRAY) return writeScalar(s, val.type, val.value, key);
    const et = val.elemType;
    if (et === undefined) throw new TypeError(`gguf: ${key}: array without elemType`);
    const items = val.value;
    s.u32(et);
    s.u64(items.length);
    for (let i = 0; i < items.length; i++) {
        if (et === GGUF_TYPE.ARRAY) {
            const inner = items[i];
            if (!inner || inner.type !== GGUF_TYPE.ARRAY) {
                throw new TypeError(`gguf: ${key}[${i}]: nested array expected`);
            }
            writeValueBody(s, inner, `${key}[${i}]`);
        } else {
            writeScalar(s, et, items[i], key);
        }
    }
}

/** @param {GgufValue | string | boolean} v @param {string} key @returns {GgufValue} */
function normalizeValue(v, key) {
    if (typeof v === 'string') return str(v);
    if (typeof v === 'boolean') return bool(v);
    if (v && typeof v === 'object' && typeof v.type === 'number') return v;
    throw new TypeError(`gguf: ${key}: numbers and arrays need an explicit type (use u32(), f32(), arr() ...)`);
}

/**
 * Bytes a tensor of `type` and `dims` occupies.
 * @param {number} type @param {number[]} dims @returns {number}
 */
export function ggmlTensorBytes(type, dims) {
    const g = GGML_BLOCK[type];
    if (!g) throw new TypeError(`gguf: unknown ggml type ${type}`);
    if (dims.length < 1 || dims.length > 4 || dims.some((d) => !Number.isInteger(d) || d < 1)) {
        throw new RangeError(`gguf: bad dims [${dims}]`);
    }
    if (dims[0] % g.blck !== 0) {
        throw new RangeError(`gguf: row length ${dims[0]} is not a multiple of ${g.name} block size ${g.blck}`);
    }
    const n = dims.reduce((a, b) => a * b, 1);
    return (n / g.blck) * g.size;
}

/** @param {number} x @param {number} a */
const alignUp = (x, a) => Math.ceil(x / a) * a;

/**
 * Encodes header (magic .. tensor infos) plus padding to the data section, and the layout.
 * @param {GgufContent} content
 * @returns {{header: Uint8Array, offsets: number[], sizes: number[], alignment: number, dataBytes: number}}
 */
function encodeHeader(content) {
    const entries = content.metadata instanceof Map ? [...content.metadata] : [...content.metadata];
    const seen = new Set();
    for (const [k] of entries) {
        if (seen.has(k)) throw new Error(`gguf: duplicate key ${k}`);
        seen.add(k);
    }
    const alignKey = entries.find(([k]) => k === 'general.alignment');
    let alignment = content.alignment ?? GGUF_DEFAULT_ALIGNMENT;
    if (alignKey) {
        const v = normalizeValue(alignKey[1], 'general.alignment');
        if (v.type !== GGUF_TYPE.UINT32) throw new TypeError('gguf: general.alignment must be UINT32');
        if (content.alignment !== undefined && content.alignment !== v.value) {
            throw new Error('gguf: alignment option disagrees with general.alignment');
        }
        alignment = v.value;
    } else if (alignment !== GGUF_DEFAULT_ALIGNMENT) {
        entries.push(['general.alignment', u32(alignment)]);
    }
    if (!Number.isInteger(alignment) || alignment < 1 || (alignment & (alignment - 1)) !== 0) {
        throw new RangeError(`gguf: alignment ${alignment} is not a power of two`);
    }

    const s = new ByteSink();
    s.bytes(new Uint8Array([0x47, 0x47, 0x55, 0x46])); // "GGUF"
    s.u32(3);
    s.u64(content.tensors.length);
    s.u64(entries.length);
    for (const [key, raw] of entries) {
        const val = normalizeValue(raw, key);
        s.string(key);
        s.u32(val.type);
        writeValueBody(s, val, key);
    }

    const offsets = [];
    const sizes = [];
    const names = new Set();
    let off = 0;
    for (const t of content.tensors) {
        if (names.has(t.name)) throw new Error(`gguf: duplicate tensor ${t.name}`);
        names.add(t.name);
        const size = ggmlTensorBytes(t.type, t.dims);
        off = alignUp(off, alignment);
        offsets.push(off);
        sizes.push(size);
        s.string(t.name);
        s.u32(t.dims.length);
        for (const d of t.dims) s.u64(d);
        s.u32(t.type);
        s.u64(off);
        off += size;
    }
    s.zeros(alignUp(s.len, alignment) - s.len);
    return { header: s.result(), offsets, sizes, alignment, dataBytes: off };
}

/** @param {GgufTensor} t @param {number} size @param {Uint8Array} b @returns {Uint8Array} */
function checkTensorBytes(t, size, b) {
    if (!(b instanceof Uint8Array)) throw new TypeError(`gguf: ${t.name}: data must be a Uint8Array`);
    if (b.length !== size) {
        throw new RangeError(`gguf: ${t.name}: ${b.length} bytes given, ${size} expected for its type and dims`);
    }
    return b;
}

/** @param {GgufTensor} t @param {number} size @returns {Uint8Array} */
function tensorBytes(t, size) {
    const b = typeof t.data === 'function' ? t.data() : t.data;
    if (b instanceof Promise) throw new TypeError(`gguf: ${t.name}: asynchronous data needs writeGguf`);
    return checkTensorBytes(t, size, /** @type {Uint8Array} */ (b));
}

/**
 * Encodes a whole GGUF file in memory (for small files and tests).
 * @param {GgufContent} content
 * @returns {Uint8Array}
 */
export function encodeGguf(content) {
    const { header, offsets, sizes, alignment, dataBytes } = encodeHeader(content);
    const out = new Uint8Array(header.length + alignUp(dataBytes, alignment));
    out.set(header, 0);
    content.tensors.forEach((t, i) => out.set(tensorBytes(t, sizes[i]), header.length + offsets[i]));
    return out;
}

/**
 * Writes a GGUF file by streaming tensor data; the file appears under `path` only when complete
 * (temp sibling + rename). On failure the temp file is removed and the error rethrown. A tensor's
 * `data` may also be an async function (read from another file when the writer reaches it).
 * @param {string} path destination
 * @param {GgufContent} content
 * @param {{onProgress?: (p: {done: number, total: number}) => void, signal?: AbortSignal}} [opts]
 *   onProgress: bytes written so far and the file's final size, after the header and each tensor;
 *   signal: checked before each tensor (an abort removes the temp file)
 * @returns {Promise<{bytes: number}>} the file size
 */
export async function writeGguf(path, content, opts = {}) {
    const { header, offsets, sizes, alignment, dataBytes } = encodeHeader(content);
    const total = header.length + alignUp(dataBytes, alignment);
    const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fh = await open(tmp, 'wx');
    let pos = 0;
    /** @param {Uint8Array} b */
    const put = async (b) => {
        let done = 0;
        while (done < b.length) {
            const { bytesWritten } = await fh.write(b, done, b.length - done, pos + done);
            done += bytesWritten;
        }
        pos += b.length;
    };
    try {
        await put(header);
        opts.onProgress?.({ done: pos, total });
        const base = header.length;
        for (let i = 0; i < content.tensors.length; i++) {
            opts.signal?.throwIfAborted();
            if (base + offsets[i] > pos) await put(new Uint8Array(base + offsets[i] - pos));
            const t = content.tensors[i];
            await put(checkTensorBytes(t, sizes[i], await (typeof t.data === 'function' ? t.data() : t.data)));
            opts.onProgress?.({ done: pos, total });
        }
        const end = base + alignUp(dataBytes, alignment);
        if (end > pos) await put(new Uint8Array(end - pos));
        await fh.sync();
        await fh.close();
        await rename(tmp, path);
        return { bytes: pos };
    } catch (e) {
        await fh.close().catch(() => {});
        await unlink(tmp).catch(() => {});
        throw e;
    }
}

// ---- small float encoders shared by converters and tests ---------------------------------------

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

/**
 * float32 → IEEE half bits, round to nearest even, with subnormals, ±Inf and NaN.
 * @param {number} x @returns {number}
 */
export function f32ToF16Bits(x) {
    f32buf[0] = x;
    const b = u32buf[0];
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
    const e = exp - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00;
    if (e <= 0) {
        if (e < -10) return sign;
        mant |= 0x800000;
        const shift = 14 - e;
        let h = mant >>> shift;
        const rem = mant & ((1 << shift) - 1);
        const half = 1 << (shift - 1);
        if (rem > half || (rem === half && (h & 1))) h++;
        return sign | h;
    }
    let h = (e << 10) | (mant >>> 13);
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into exponent: still correct
    return sign | h;
}

/**
 * IEEE half bits → number.
 * @param {number} h @returns {number}
 */
export function f16BitsToF32(h) {
    const s = h & 0x8000 ? -1 : 1;
    const e = (h >>> 10) & 0x1f;
    const m = h & 0x3ff;
    if (e === 0) return s * m * 2 ** -24;
    if (e === 0x1f) return m ? NaN : s * Infinity;
    return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * float32 → bfloat16 bits, round to nearest even (NaN kept quiet).
 * @param {number} x @returns {number}
 */
export function f32ToBf16Bits(x) {
    f32buf[0] = x;
    const b = u32buf[0];
    if ((b & 0x7fffffff) > 0x7f800000) return ((b >>> 16) | 0x40) & 0xffff;
    return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Encodes floats as a tensor payload of type F32, F16 or BF16 (little-endian: typed arrays use the
 * host's byte order, which is little-endian on every host we run on, WASM included).
 * @param {ArrayLike<number>} values @param {number} [type] GGML_TYPE.F32 (default), F16 or BF16
 * @returns {Uint8Array}
 */
export function encodeFloats(values, type = GGML_TYPE.F32) {
    const n = values.length;
    if (type === GGML_TYPE.F32) {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = values[i];
        return new Uint8Array(out.buffer);
    }
    const enc = type === GGML_TYPE.F16 ? f32ToF16Bits : type === GGML_TYPE.BF16 ? f32ToBf16Bits : null;
    if (!enc) throw new TypeError(`encodeFloats: unsupported type ${type}`);
    const out = new Uint16Array(n);
    for (let i = 0; i < n; i++) out[i] = enc(values[i]);
    return new Uint8Array(out.buffer);
}
