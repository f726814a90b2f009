// legacy-json.js — reads SmallMind's earlier JSON checkpoints (the seed's JsonCheckpointStore:
// metadata plus arrays of floats) as model content for the writers. The accepted shape is
// docs/SMND.md §7: `metadata` (GGUF keys; typed {"type","value"} or bare values typed by a small
// table), optional llama2.c-style `config`, and `tensors` (name → {shape, data}, shape row-major
// outermost first, data flat). Tensors are stored as F32. Not a writer: JSON is only read.

import { readFile } from 'node:fs/promises';

import { SmallMindError, SM_ERR_FORMAT } from '../errors.js';
import { GGML_TYPE, GGUF_TYPE } from './gguf-writer.js';

const T = GGUF_TYPE;
const BY_NAME = /** @type {Record<string, number>} */ ({
  u8: T.UINT8, i8: T.INT8, u16: T.UINT16, i16: T.INT16, u32: T.UINT32, i32: T.INT32, u64: T.UINT64,
  i64: T.INT64, f32: T.FLOAT32, f64: T.FLOAT64, bool: T.BOOL, str: T.STRING,
});

/** Keys llama.cpp reads as floats, by suffix (bare numbers under them become f32). */
const FLOAT_KEY = /(\.rope\.freq_base|epsilon|_softcapping|_factor|_scale|\.rope\.scaling\.factor)$/;

/** @param {string} msg */
const bad = (msg) => new SmallMindError(`legacy JSON checkpoint: ${msg}`, SM_ERR_FORMAT);

/**
 * A metadata value as a typed GGUF value.
 * @param {string} key @param {any} v @returns {import('./gguf-writer.js').GgufValue}
 */
function typed(key, v) {
  if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.type === 'string') {
    const isArray = v.type.endsWith('[]');
    const type = BY_NAME[isArray ? v.type.slice(0, -2) : v.type];
    if (type === undefined) throw bad(`${key}: unknown type '${v.type}'`);
    if (!isArray) return { type, value: type === T.UINT64 || type === T.INT64 ? BigInt(v.value) : v.value };
    if (!Array.isArray(v.value)) throw bad(`${key}: a ${v.type} value must be a JSON array`);
    return { type: T.ARRAY, elemType: type, value: v.value };
  }
  if (typeof v === 'string') return { type: T.STRING, value: v };
  if (typeof v === 'boolean') return { type: T.BOOL, value: v };
  if (typeof v === 'number') {
    if (FLOAT_KEY.test(key) || !Number.isInteger(v)) return { type: T.FLOAT32, value: v };
    return { type: v < 0 ? T.INT32 : T.UINT32, value: v };
  }
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) return { type: T.ARRAY, elemType: T.STRING, value: v };
    if (!v.every((x) => typeof x === 'number')) throw bad(`${key}: arrays must hold only strings or only numbers`);
    const ints = key === 'tokenizer.ggml.token_type' || (key !== 'tokenizer.ggml.scores' && v.every(Number.isInteger));
    return { type: T.ARRAY, elemType: ints ? T.INT32 : T.FLOAT32, value: ints ? Int32Array.from(v) : Float32Array.from(v) };
  }
  throw bad(`${key}: unsupported value ${JSON.stringify(v)}`);
}

/** llama2.c-style hyper-parameters → GGUF keys of the architecture. @param {any} c */
function configEntries(c) {
  const arch = c.architecture ?? 'llama';
  /** @type {Array<[string, any]>} */
  const out = [['general.architecture', { type: T.STRING, value: arch }]];
  const map = /** @type {Array<[string, string, number]>} */ ([
    ['seq_len', 'context_length', T.UINT32], ['dim', 'embedding_length', T.UINT32],
    ['n_layers', 'block_count', T.UINT32], ['hidden_dim', 'feed_forward_length', T.UINT32],
    ['n_heads', 'attention.head_count', T.UINT32], ['n_kv_heads', 'attention.head_count_kv', T.UINT32],
    ['norm_eps', 'attention.layer_norm_rms_epsilon', T.FLOAT32], ['rope_theta', 'rope.freq_base', T.FLOAT32],
    ['vocab_size', 'vocab_size', T.UINT32],
  ]);
  for (const [from, to, type] of map) {
    if (c[from] === undefined) continue;
    if (typeof c[from] !== 'number') throw bad(`config.${from} must be a number`);
    out.push([`${arch}.${to}`, { type, value: c[from] }]);
  }
  if (typeof c.dim === 'number' && typeof c.n_heads === 'number') {
    out.push([`${arch}.rope.dimension_count`, { type: T.UINT32, value: c.dim / c.n_heads }]);
  }
  return out;
}

/**
 * Model content from a parsed legacy JSON checkpoint.
 * @param {any} doc
 * @returns {import('./gguf-reader.js').ModelContent}
 */
export function legacyJsonContent(doc) {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw bad('not a JSON object');
  if (doc.metadata !== undefined && (typeof doc.metadata !== 'object' || Array.isArray(doc.metadata))) throw bad('"metadata" must be an object');
  /** @type {Map<string, any>} */
  const meta = new Map(doc.config ? configEntries(doc.config) : []);
  for (const [k, v] of Object.entries(doc.metadata ?? {})) meta.set(k, typed(k, v));
  if (!doc.tensors || typeof doc.tensors !== 'object') throw bad('"tensors" is missing');
  const list = Array.isArray(doc.tensors)
    ? doc.tensors
    : Object.entries(doc.tensors).map(([name, t]) => ({ name, ...(/** @type {object} */ (t)) }));
  const tensors = list.map((/** @type {any} */ t, /** @type {number} */ i) => {
    if (!t || typeof t.name !== 'string' || !t.name) throw bad(`tensor ${i} has no name`);
    if (!Array.isArray(t.shape) || t.shape.length < 1 || t.shape.length > 4 || !t.shape.every((/** @type {any} */ d) => Number.isInteger(d) && d >= 1)) {
      throw bad(`tensor '${t.name}': shape must be 1 to 4 positive integers`);
    }
    const n = t.shape.reduce((/** @type {number} */ a, /** @type {number} */ b) => a * b, 1);
    if (!Array.isArray(t.data) || t.data.length !== n) {
      throw bad(`tensor '${t.name}': data must be an array of ${n} numbers (shape [${t.shape}]), got ${Array.isArray(t.data) ? t.data.length : typeof t.data}`);
    }
    const data = t.data;
    return {
      name: t.name, type: GGML_TYPE.F32, dims: [...t.shape].reverse(), nBytes: n * 4,
      data: async () => {
        const f = new Float32Array(n);
        for (let k = 0; k < n; k++) {
          if (typeof data[k] !== 'number') throw bad(`tensor '${t.name}': element ${k} is not a number`);
          f[k] = data[k];
        }
        return new Uint8Array(f.buffer);
      },
    };
  });
  return { metadata: [...meta], tensors };
}

/**
 * Reads a legacy JSON checkpoint file.
 * @param {string | Uint8Array} src a path or the file's bytes
 * @returns {Promise<import('./gguf-reader.js').ModelContent>}
 */
export async function readLegacyJson(src) {
  const text = typeof src === 'string' ? await readFile(src, 'utf8') : new TextDecoder().decode(src);
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(/** @type {Error} */ (e).message);
  }
  return legacyJsonContent(doc);
}
