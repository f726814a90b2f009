// smnd-vs-json.mjs — SMND version 1 against the legacy JSON checkpoint (docs/SMND.md §7: metadata +
// arrays of floats) for the same F32 models of ~1 MB and ~90 MB: file size, save time, load time.
//
//   node bench/smnd-vs-json.mjs [--runs N] [--small-only] [--json]
//
// Save: JSON = JSON.stringify per tensor, streamed to the file (the JSON form's best case: one giant
// string would be slower); SMND = writeSmnd (the engine's writer through WASM: framing + CRC-32s,
// then fsync and rename, as every converter output is written atomically; JSON gets no fsync).
// Load, to F32 arrays in JS: JSON = readFile + JSON.parse + Float32Array.from per tensor; SMND =
// readFile + readSmnd + every tensor's data (CRC-32 checked; the data are views, not copies). Also
// timed: the engine's own load of the SMND bytes (copy into WASM memory, every CRC, binding).
// The large model's JSON text stays under V8's ~512 MiB string limit, which is why it is 90 MB.
// Targets from the roadmap: SMND >= 5x faster and <= 50% of the size. Reported, never asserted.
// SM_WASM_DIR points at another WASM build (development).

import { mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Engine } from '../bindings/js/engine.js';
import { encodeSmndMetadata, openInput, readSmnd, writeSmnd } from '../bindings/js/convert/index.js';
import { GGML_TYPE, GGUF_TYPE } from '../bindings/js/convert/gguf-writer.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1]) || 5;
const assetsBase = process.env.SM_WASM_DIR || undefined;

/** Deterministic N(0, std) values (xorshift + Box-Muller), as trained weights look. */
function gaussian(n, std, seed) {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const u = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return ((s >>> 0) + 0.5) / 2 ** 32; };
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())), t = 2 * Math.PI * u();
    out[i] = std * r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = std * r * Math.sin(t);
  }
  return out;
}

/** A random llama model of F32 tensors: {metadata, tensors (with values)}. */
function model(shape) {
  const { n_vocab, n_embd, n_layer, n_head, n_ff } = shape;
  const u32 = (v) => ({ type: GGUF_TYPE.UINT32, value: v });
  const metadata = [
    ['general.architecture', { type: GGUF_TYPE.STRING, value: 'llama' }],
    ['general.name', { type: GGUF_TYPE.STRING, value: shape.name }],
    ['llama.context_length', u32(256)], ['llama.embedding_length', u32(n_embd)], ['llama.block_count', u32(n_layer)],
    ['llama.feed_forward_length', u32(n_ff)], ['llama.attention.head_count', u32(n_head)],
    ['llama.attention.layer_norm_rms_epsilon', { type: GGUF_TYPE.FLOAT32, value: 1e-5 }],
  ];
  const list = [['token_embd.weight', [n_embd, n_vocab]], ['output_norm.weight', [n_embd]], ['output.weight', [n_embd, n_vocab]]];
  for (let l = 0; l < n_layer; l++) {
    for (const [n, d] of [['attn_norm', [n_embd]], ['attn_q', [n_embd, n_embd]], ['attn_k', [n_embd, n_embd]], ['attn_v', [n_embd, n_embd]],
      ['attn_output', [n_embd, n_embd]], ['ffn_norm', [n_embd]], ['ffn_gate', [n_embd, n_ff]], ['ffn_up', [n_embd, n_ff]], ['ffn_down', [n_ff, n_embd]]]) {
      list.push([`blk.${l}.${n}.weight`, d]);
    }
  }
  const tensors = list.map(([name, dims], i) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = dims.length === 1 ? new Float32Array(n).fill(1) : gaussian(n, 0.02, i + 1);
    return { name, type: GGML_TYPE.F32, dims, nBytes: n * 4, values, data: async () => new Uint8Array(values.buffer) };
  });
  return { metadata, tensors };
}

/** The legacy JSON form, streamed: {"metadata":{...},"tensors":{name:{shape,data}}}. */
async function saveJson(path, m) {
  const fh = await open(path, 'w');
  const meta = Object.fromEntries(m.metadata.map(([k, v]) => [k, v.value]));
  let buf = `{"metadata":${JSON.stringify(meta)},"tensors":{`;
  for (let i = 0; i < m.tensors.length; i++) {
    const t = m.tensors[i];
    buf += `${i ? ',' : ''}${JSON.stringify(t.name)}:{"shape":${JSON.stringify([...t.dims].reverse())},"data":${JSON.stringify(Array.from(t.values))}}`;
    if (buf.length > 1 << 24) { await fh.write(buf); buf = ''; }
  }
  await fh.write(`${buf}}}`);
  await fh.close();
}

async function loadJson(path) {
  const doc = JSON.parse(await readFile(path, 'utf8'));
  const out = {};
  for (const [name, t] of Object.entries(doc.tensors)) out[name] = Float32Array.from(t.data);
  return out;
}

async function loadSmndJs(path) {
  const input = await openInput(new Uint8Array(await readFile(path)));
  const s = await readSmnd(input);
  const out = {};
  for (const t of s.tensors) {
    const b = await t.data();
    out[t.name] = new Float32Array(b.buffer, b.byteOffset, b.length / 4); // 32-byte aligned in the file
  }
  return out;
}

async function time(fn) {
  gc(); // a collection owed by the previous step is not charged to this one
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const shapes = [
  { name: 'small (~1 MB)', n_vocab: 512, n_embd: 96, n_layer: 2, n_head: 4, n_ff: 256 },
  { name: 'large (~90 MB)', n_vocab: 4096, n_embd: 512, n_layer: 6, n_head: 8, n_ff: 1408 },
];
if (args.includes('--small-only')) shapes.pop();

const dir = await mkdtemp(join(tmpdir(), 'smnd-bench-'));
const engine = await Engine.create({ assetsBase });
const results = [];
try {
  for (const shape of shapes) {
    const m = model(shape);
    const [pj, ps] = [join(dir, 'm.json'), join(dir, 'm.smnd')];
    const r = { model: shape.name, params: m.tensors.reduce((a, t) => a + t.nBytes / 4, 0), runs: Math.min(runs, shape.n_embd > 256 ? 2 : runs) };
    const t = { jsonSave: [], jsonLoad: [], smndSave: [], smndLoad: [], engineLoad: [] };
    // one untimed round first: the JIT, the WASM module and the file cache warm up for both
    for (let i = -1; i < r.runs; i++) {
      const keep = (/** @type {number[]} */ list, /** @type {number} */ ms) => { if (i >= 0) list.push(ms); };
      await rm(ps, { force: true });
      keep(t.jsonSave, await time(() => saveJson(pj, m)));
      keep(t.smndSave, await time(() => writeSmnd(ps, m, { version: 1, assetsBase })));
      keep(t.jsonLoad, await time(() => loadJson(pj)));
      keep(t.smndLoad, await time(() => loadSmndJs(ps)));
      keep(t.engineLoad, await time(async () => engine.loadModel(new Uint8Array(await readFile(ps))).free()));
    }
    r.jsonBytes = (await stat(pj)).size;
    r.smndBytes = (await stat(ps)).size;
    r.metadataBytes = encodeSmndMetadata(m.metadata).length;
    for (const [k, v] of Object.entries(t)) r[`${k}Ms`] = Math.round(median(v) * 10) / 10;
    r.sizeRatio = r.smndBytes / r.jsonBytes;
    r.saveSpeedup = r.jsonSaveMs / r.smndSaveMs;
    r.loadSpeedup = r.jsonLoadMs / r.smndLoadMs;
    r.saveLoadSpeedup = (r.jsonSaveMs + r.jsonLoadMs) / (r.smndSaveMs + r.smndLoadMs);
    results.push(r);
    await rm(pj, { force: true });
    await rm(ps, { force: true });
  }
} finally {
  engine.dispose();
  await rm(dir, { recursive: true, force: true });
}

if (args.includes('--json')) {
  console.log(JSON.stringify({ bench: 'smnd-vs-json', node: process.version, results }, null, 2));
} else {
  const mb = (b) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  for (const r of results) {
    console.log(`${r.model}: ${(r.params / 1e6).toFixed(2)} M F32 parameters, median of ${r.runs} runs`);
    console.log(`  size   JSON ${mb(r.jsonBytes)}   SMND v1 ${mb(r.smndBytes)}   SMND/JSON ${(100 * r.sizeRatio).toFixed(1)}%  (target <= 50%)`);
    console.log(`  save   JSON ${r.jsonSaveMs} ms   SMND ${r.smndSaveMs} ms   ${r.saveSpeedup.toFixed(1)}x faster`);
    console.log(`  load   JSON ${r.jsonLoadMs} ms   SMND ${r.smndLoadMs} ms   ${r.loadSpeedup.toFixed(1)}x faster   (engine load of the SMND: ${r.engineLoadMs} ms)`);
    console.log(`  save+load ${r.saveLoadSpeedup.toFixed(1)}x faster  (target >= 5x)`);
  }
}
