// smnd.js — SMND files for the converters (docs/SMND.md): the metadata JSON both ways (typed GGUF
// key/values ↔ [key, type, value] triples), a reader that walks the tensor records and checks
// every CRC, and a writer that streams through the engine's own writer (sm_smnd_writer via WASM,
// so JS never frames or checksums a file differently from C) into a temporary file renamed when
// complete. The engine loads SMND itself (sm_model_load_from_memory); this module only converts.

import { zlibCrc32 } from './crc.js';
import { SmallMindError, SM_ERR_FORMAT, SM_ERR_INVALID_ARG, SM_ERR_UNSUPPORTED } from '../errors.js';
import { AtomicOutput } from './file.js';
import { GGML_BLOCK, GGUF_TYPE, ggmlTensorBytes } from './gguf-writer.js';
import { GGUF_ELEM_SIZE, bytesToString } from './gguf-reader.js';
import { WasmSmndWriter, convertModule } from './wasm.js';

export const SM_ERR_VERSION = -8;
export const SM_ERR_CORRUPT = -9;
/** The newest SMND version this package reads and writes. */
export const SMND_VERSION = 2;
const ALIGN = 32;
const MAX_NAME = 1024;

/** SMND type names by GGUF value type (docs/SMND.md §3.1). */
const TYPE_NAMES = /** @type {Record<number, string>} */ ({
  [GGUF_TYPE.UINT8]: 'u8', [GGUF_TYPE.INT8]: 'i8', [GGUF_TYPE.UINT16]: 'u16', [GGUF_TYPE.INT16]: 'i16',
  [GGUF_TYPE.UINT32]: 'u32', [GGUF_TYPE.INT32]: 'i32', [GGUF_TYPE.FLOAT32]: 'f32', [GGUF_TYPE.BOOL]: 'bool',
  [GGUF_TYPE.STRING]: 'str', [GGUF_TYPE.UINT64]: 'u64', [GGUF_TYPE.INT64]: 'i64', [GGUF_TYPE.FLOAT64]: 'f64',
});
const TYPE_IDS = Object.fromEntries(Object.entries(TYPE_NAMES).map(([id, n]) => [n, Number(id)]));

const ARRAY_CTORS = /** @type {Record<number, any>} */ ({
  [GGUF_TYPE.UINT8]: Uint8Array, [GGUF_TYPE.INT8]: Int8Array, [GGUF_TYPE.UINT16]: Uint16Array,
  [GGUF_TYPE.INT16]: Int16Array, [GGUF_TYPE.UINT32]: Uint32Array, [GGUF_TYPE.INT32]: Int32Array,
  [GGUF_TYPE.FLOAT32]: Float32Array, [GGUF_TYPE.UINT64]: BigUint64Array, [GGUF_TYPE.INT64]: BigInt64Array,
  [GGUF_TYPE.FLOAT64]: Float64Array, [GGUF_TYPE.BOOL]: Uint8Array,
});

const EXACT = 2n ** 53n;
const utf8 = new TextEncoder();

/** @param {string} msg @param {number} [status] */
const fail = (msg, status = SM_ERR_FORMAT) => new SmallMindError(msg, status);

// ---- metadata JSON -------------------------------------------------------------------------------

/** @param {number} v @param {boolean} f32 */
function encodeFloat(v, f32) {
  const x = f32 ? Math.fround(v) : v;
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return '"Infinity"';
  if (x === -Infinity) return '"-Infinity"';
  if (Object.is(x, -0)) return '-0';
  return String(x);
}

/** @param {string | Uint8Array} s @param {string} key */
function encodeString(s, key) {
  if (s instanceof Uint8Array) {
    const text = bytesToString(s);
    if (typeof text !== 'string') return `{"base64":"${Buffer.from(s).toString('base64')}"}`;
    s = text;
  }
  if (typeof s !== 'string') throw fail(`SMND: ${key}: a string was expected`, SM_ERR_INVALID_ARG);
  if (!s.isWellFormed()) throw fail(`SMND: ${key}: the string holds a lone surrogate (not UTF-8)`, SM_ERR_INVALID_ARG);
  return JSON.stringify(s);
}

/** @param {number | bigint} v @param {number} type @param {string} key */
function encodeInt(v, type, key) {
  const T = GGUF_TYPE;
  const b = BigInt(v);
  const range = {
    [T.UINT8]: [0n, 255n], [T.INT8]: [-128n, 127n], [T.UINT16]: [0n, 65535n], [T.INT16]: [-32768n, 32767n],
    [T.UINT32]: [0n, 4294967295n], [T.INT32]: [-2147483648n, 2147483647n],
    [T.UINT64]: [0n, 2n ** 64n - 1n], [T.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  }[type];
  if (!range || b < range[0] || b > range[1]) throw fail(`SMND: ${key}: ${v} does not fit ${TYPE_NAMES[type]}`, SM_ERR_INVALID_ARG);
  return b > EXACT || b < -EXACT ? `"${b}"` : String(b);
}

/**
 * The packed little-endian bytes of a numeric (or bool) array.
 * @param {number} elemType @param {ArrayLike<any>} items @param {string} key
 */
function packArray(elemType, items, key) {
  const Ctor = ARRAY_CTORS[elemType];
  if (elemType === GGUF_TYPE.BOOL) return Uint8Array.from(items, (x) => (x ? 1 : 0));
  /** @type {any} */
  let ta = items instanceof Ctor ? items : null;
  if (!ta) {
    ta = new Ctor(items.length);
    for (let i = 0; i < items.length; i++) {
      const x = items[i];
      if (elemType === GGUF_TYPE.FLOAT32 || elemType === GGUF_TYPE.FLOAT64) ta[i] = x;
      else {
        encodeInt(x, elemType, `${key}[${i}]`); // range check
        ta[i] = Ctor === BigUint64Array || Ctor === BigInt64Array ? BigInt(x) : x;
      }
    }
  }
  return new Uint8Array(ta.buffer, ta.byteOffset, ta.byteLength); // typed arrays are little-endian here
}

/**
 * One [key, type, value] triple as JSON text.
 * @param {string} key @param {import('./gguf-writer.js').GgufValue | string | boolean} raw
 */
function encodeEntry(key, raw) {
  const v = typeof raw === 'string' ? { type: GGUF_TYPE.STRING, value: raw }
    : typeof raw === 'boolean' ? { type: GGUF_TYPE.BOOL, value: raw } : raw;
  const T = GGUF_TYPE;
  const k = encodeString(key, 'key');
  if (v.type === T.ARRAY) {
    const et = /** @type {number} */ (v.elemType);
    if (et === T.ARRAY) throw fail(`SMND: key '${key}' is an array of arrays, which SMND cannot hold`, SM_ERR_UNSUPPORTED);
    if (!TYPE_NAMES[et]) throw fail(`SMND: key '${key}': unknown element type ${et}`, SM_ERR_INVALID_ARG);
    const body = et === T.STRING
      ? `[${Array.from(v.value, (s, i) => encodeString(/** @type {any} */ (s), `${key}[${i}]`)).join(',')}]`
      : `"${Buffer.from(packArray(et, v.value, key)).toString('base64')}"`;
    return `[${k},"${TYPE_NAMES[et]}[]",${body}]`;
  }
  let body;
  switch (v.type) {
    case T.STRING: body = encodeString(v.value, key); break;
    case T.BOOL: body = v.value ? 'true' : 'false'; break;
    case T.FLOAT32: case T.FLOAT64:
      if (typeof v.value !== 'number') throw fail(`SMND: ${key}: a number was expected`, SM_ERR_INVALID_ARG);
      body = encodeFloat(v.value, v.type === T.FLOAT32);
      break;
    default:
      if (!TYPE_NAMES[v.type]) throw fail(`SMND: key '${key}': unknown value type ${v.type}`, SM_ERR_INVALID_ARG);
      body = encodeInt(v.value, v.type, key);
  }
  return `[${k},"${TYPE_NAMES[v.type]}",${body}]`;
}

/**
 * The metadata JSON of an SMND file, without "tensor_count" (the writer adds it): the key/values
 * one per line, then the provenance.
 * @param {Array<[string, any]>} metadata @param {Record<string, unknown>} [provenance]
 * @returns {string}
 */
export function encodeSmndMetadata(metadata, provenance) {
  const seen = new Set();
  const lines = metadata.map(([key, value]) => {
    if (seen.has(key)) throw fail(`SMND: duplicate key '${key}'`, SM_ERR_INVALID_ARG);
    seen.add(key);
    return encodeEntry(key, value);
  });
  const kv = lines.length ? `[\n${lines.join(',\n')}\n]` : '[]';
  const prov = provenance ? `,\n"provenance":${JSON.stringify(provenance)}` : '';
  return `{"kv":${kv}${prov}}\n`;
}

/** @param {unknown} s @param {string} what @returns {Uint8Array} */
function base64Bytes(s, what) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4) throw fail(`SMND metadata: ${what}: bad base64`);
  const b = Buffer.from(s, 'base64');
  return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** @param {unknown} v @param {string} what @returns {string | Uint8Array} */
function decodeString(v, what) {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && Object.keys(v).length === 1 && 'base64' in v) return base64Bytes(/** @type {any} */ (v).base64, what);
  throw fail(`SMND metadata: ${what}: a string was expected`);
}

/** @param {unknown} v @param {number} type @param {string} what */
function decodeScalar(v, type, what) {
  const T = GGUF_TYPE;
  if (type === T.STRING) return decodeString(v, what);
  if (type === T.BOOL) {
    if (typeof v !== 'boolean') throw fail(`SMND metadata: ${what}: true or false expected`);
    return v;
  }
  if (type === T.FLOAT32 || type === T.FLOAT64) {
    const special = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };
    if (typeof v === 'string' && v in special) return special[/** @type {keyof special} */ (v)];
    if (typeof v !== 'number') throw fail(`SMND metadata: ${what}: a number was expected`);
    return type === T.FLOAT32 ? Math.fround(v) : v;
  }
  const wide = type === T.UINT64 || type === T.INT64;
  if (!(Number.isInteger(v) || (wide && typeof v === 'string' && /^-?\d+$/.test(v)))) {
    throw fail(`SMND metadata: ${what}: an integer was expected`);
  }
  encodeInt(/** @type {any} */ (wide ? BigInt(/** @type {any} */ (v)) : v), type, what);
  return wide ? BigInt(/** @type {any} */ (v)) : v;
}

/**
 * Parses SMND metadata JSON into typed key/values (64-bit integers as BigInt, numeric arrays as
 * typed arrays, strings that are not UTF-8 as Uint8Array).
 * @param {string} text
 * @returns {{tensorCount: number, metadata: Array<[string, import('./gguf-writer.js').GgufValue]>,
 *   provenance?: Record<string, unknown>}}
 */
export function decodeSmndMetadata(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw fail(`SMND metadata: ${/** @type {Error} */ (e).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw fail('SMND metadata is not a JSON object');
  if (!Number.isInteger(doc.tensor_count) || doc.tensor_count < 0) throw fail('SMND metadata: missing or bad tensor_count');
  if (!Array.isArray(doc.kv)) throw fail("SMND metadata: missing member 'kv'");
  /** @type {Array<[string, import('./gguf-writer.js').GgufValue]>} */
  const metadata = doc.kv.map((/** @type {unknown} */ e, /** @type {number} */ i) => {
    if (!Array.isArray(e) || e.length !== 3 || typeof e[0] !== 'string' || typeof e[1] !== 'string') {
      throw fail(`SMND metadata: kv[${i}] is not a [key, type, value] triple`);
    }
    const [key, tname, value] = e;
    const what = `kv[${i}] '${key}'`;
    const isArray = tname.endsWith('[]');
    const type = TYPE_IDS[isArray ? tname.slice(0, -2) : tname];
    if (type === undefined) throw fail(`SMND metadata: ${what}: unknown type '${tname}'`);
    if (!isArray) return [key, { type, value: decodeScalar(value, type, what) }];
    if (type === GGUF_TYPE.STRING) {
      if (!Array.isArray(value)) throw fail(`SMND metadata: ${what}: a JSON array was expected`);
      return [key, { type: GGUF_TYPE.ARRAY, elemType: type, value: value.map((s, k) => decodeString(s, `${what}[${k}]`)) }];
    }
    const bytes = base64Bytes(value, what);
    const size = GGUF_ELEM_SIZE[type];
    if (bytes.length % size) throw fail(`SMND metadata: ${what}: not a whole number of ${tname.slice(0, -2)} elements`);
    const items = type === GGUF_TYPE.BOOL ? Array.from(bytes, (x) => x === 1) : new ARRAY_CTORS[type](bytes.buffer, 0, bytes.length / size);
    return [key, { type: GGUF_TYPE.ARRAY, elemType: type, value: items }];
  });
  return { tensorCount: doc.tensor_count, metadata, provenance: doc.provenance };
}

// ---- reading ---------------------------------------------------------------------------------------

/** @param {Uint8Array} b @param {number} at */
const u32 = (b, at) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
/** @param {Uint8Array} b @param {number} at */
const u64 = (b, at) => u32(b, at) + u32(b, at + 4) * 2 ** 32;

/** @param {Uint8Array} b @returns {boolean} SMND's magic, or within one byte of it */
export function isSmnd(b) {
  if (b.length < 4) return false;
  let same = 0;
  for (let i = 0; i < 4; i++) same += b[i] === 'SMND'.charCodeAt(i) ? 1 : 0;
  return same >= 3;
}

/**
 * Reads an SMND file: header, metadata (CRC checked) and the tensor table (walking every record;
 * each record's CRC is checked when its data is read). Errors are SmallMindError with the engine's
 * codes: SM_ERR_CORRUPT (magic, CRC, truncation), SM_ERR_VERSION, SM_ERR_FORMAT.
 * @param {import('./file.js').Input} input
 * @returns {Promise<import('./gguf-reader.js').ModelContent & {version: number}>}
 */
export async function readSmnd(input) {
  const corrupt = (/** @type {string} */ m) => fail(`corrupt SMND file: ${m}`, SM_ERR_CORRUPT);
  const head = await input.read(0, 20);
  if (head.length < 4 || String.fromCharCode(...head.subarray(0, 4)) !== 'SMND') throw corrupt('the magic is not "SMND"');
  if (head.length < 20) throw corrupt(`truncated: ${input.size} bytes`);
  const version = u32(head, 4);
  if (version === 0) throw corrupt('version 0');
  if (version > SMND_VERSION) throw fail(`SMND version ${version} needs a newer SmallMind: this build reads versions 1 to ${SMND_VERSION}`, SM_ERR_VERSION);
  if (head.subarray(8, 16).some((x) => x !== 0)) throw corrupt('reserved header bytes are not zero');
  const metaLen = u32(head, 16);
  if (24 + metaLen > input.size) throw corrupt(`truncated: the metadata needs ${24 + metaLen} bytes, the file has ${input.size}`);
  const meta = await input.read(16, 8 + metaLen);
  if (zlibCrc32(0, meta.subarray(0, 4 + metaLen)) !== u32(meta, 4 + metaLen)) throw corrupt("the metadata's CRC-32 does not match");
  const text = new TextDecoder('utf-8', { fatal: false }).decode(meta.subarray(4, 4 + metaLen));
  const { tensorCount, metadata, provenance } = decodeSmndMetadata(text);
  for (const [key] of metadata) {
    if (version === 1 && (key.startsWith('tokenizer.') || key.startsWith('optim.'))) throw fail(`SMND version 1 file with key '${key}' (needs version 2)`);
  }
  /** @type {import('./gguf-reader.js').ModelTensor[]} */
  const tensors = [];
  let pos = 24 + metaLen;
  for (let i = 0; i < tensorCount; i++) {
    const what = `tensor ${i} of ${tensorCount}`;
    const rec = await input.read(pos, 4 + MAX_NAME + 8 + 32 + 8);
    const nameLen = rec.length >= 4 ? u32(rec, 0) : 0;
    if (rec.length < 4 || nameLen === 0 || nameLen > MAX_NAME || rec.length < 4 + nameLen + 8) throw corrupt(`${what} is missing or truncated at offset ${pos}`);
    const name = new TextDecoder().decode(rec.subarray(4, 4 + nameLen));
    let at = 4 + nameLen;
    const type = u32(rec, at);
    const rank = u32(rec, at + 4);
    at += 8;
    if (rank < 1 || rank > 4 || rec.length < at + 8 * rank + 8) throw corrupt(`${what} '${name}': bad rank or truncated`);
    const dims = [];
    for (let d = 0; d < rank; d++) dims.push(u64(rec, at + 8 * d));
    at += 8 * rank;
    const nBytes = u64(rec, at);
    at += 8;
    const dataAt = pos + at + ((ALIGN - ((pos + at) % ALIGN)) % ALIGN);
    const end = dataAt + nBytes;
    if (end + 4 > input.size) throw corrupt(`truncated: ${what} '${name}' runs past the end of the file`);
    if (!GGML_BLOCK[type]) throw fail(`SMND: ${what} '${name}' has type ${type}, which this build does not know`, SM_ERR_UNSUPPORTED);
    if (version === 1 && type !== 0) throw fail(`SMND: ${what} '${name}': version 1 holds F32 tensors only`);
    let expect = -1;
    try { expect = ggmlTensorBytes(type, dims); } catch { /* reported below */ }
    if (expect !== nBytes) throw fail(`SMND: ${what} '${name}': its shape and type do not give ${nBytes} bytes`);
    const recordAt = pos;
    tensors.push({
      name, type, dims, nBytes,
      data: async () => {
        const all = await input.read(recordAt, end + 4 - recordAt);
        if (all.length !== end + 4 - recordAt) throw corrupt(`truncated: ${what} '${name}'`);
        const n = end - recordAt;
        if (zlibCrc32(0, all.subarray(0, n)) !== u32(all, n)) throw corrupt(`${what} '${name}': the CRC-32 of its record does not match`);
        return all.subarray(dataAt - recordAt, n);
      },
    });
    pos = end + 4;
  }
  if (pos !== input.size) throw corrupt(`${input.size - pos} bytes follow the last of its ${tensorCount} tensors`);
  return { version, metadata, tensors, provenance };
}

// ---- writing ---------------------------------------------------------------------------------------

/**
 * @typedef {object} SmndWriteOptions
 * @property {number} [version] 1, 2, or 0/undefined for the lowest version that holds the content
 * @property {Record<string, unknown>} [provenance] written as the metadata's "provenance"
 * @property {(p: {done: number, total: number}) => void} [onProgress] bytes written and the final size
 * @property {AbortSignal} [signal] checked between pieces; an abort removes the temporary file
 * @property {string | URL} [assetsBase] where the WASM build is (default: the package's)
 * @property {any} [module] an already loaded engine module
 */

const CHUNK = 8 << 20;

/**
 * Streams a model into SMND bytes, handing each piece to `sink`.
 * @param {import('./gguf-reader.js').ModelContent} content
 * @param {SmndWriteOptions} opts @param {(b: Uint8Array) => Promise<void> | void} sink
 * @returns {Promise<{bytes: number, version: number}>}
 */
async function streamSmnd(content, opts, sink) {
  const m = await convertModule(opts);
  const w = new WasmSmndWriter(m, {
    version: opts.version ?? 0,
    metaJson: encodeSmndMetadata(content.metadata, opts.provenance ?? content.provenance),
    tensors: content.tensors,
  });
  try {
    let done = 0;
    const emit = async (/** @type {Uint8Array} */ b) => {
      if (b.length) await sink(b);
      done += b.length;
      opts.onProgress?.({ done, total: w.fileSize });
    };
    await emit(w.head);
    for (const t of content.tensors) {
      opts.signal?.throwIfAborted();
      const bytes = await t.data();
      if (bytes.length !== t.nBytes) throw fail(`tensor '${t.name}': ${bytes.length} bytes given, ${t.nBytes} expected`, SM_ERR_INVALID_ARG);
      for (let at = 0; at < bytes.length; at += CHUNK) {
        opts.signal?.throwIfAborted();
        await emit(w.write(bytes.subarray(at, Math.min(bytes.length, at + CHUNK))));
      }
    }
    await emit(w.finish());
    return { bytes: done, version: w.version };
  } finally {
    w.free();
  }
}

/**
 * Writes an SMND file atomically: it appears under `path` only when complete.
 * @param {string} path @param {import('./gguf-reader.js').ModelContent} content @param {SmndWriteOptions} [opts]
 * @returns {Promise<{bytes: number, version: number}>}
 */
export async function writeSmnd(path, content, opts = {}) {
  const out = await new AtomicOutput(path).open();
  try {
    const r = await streamSmnd(content, opts, (b) => out.write(b));
    await out.commit();
    return r;
  } catch (e) {
    await out.discard();
    throw e;
  }
}

/**
 * Encodes a whole SMND file in memory (small models, tests).
 * @param {import('./gguf-reader.js').ModelContent} content @param {SmndWriteOptions} [opts]
 * @returns {Promise<Uint8Array>}
 */
export async function encodeSmnd(content, opts = {}) {
  /** @type {Uint8Array[]} */
  const parts = [];
  await streamSmnd(content, opts, (b) => { parts.push(b); });
  return new Uint8Array(Buffer.concat(parts));
}
