// The converters (bindings/js/convert/, docs/SMND.md): GGUF → SMND → GGUF reproduces the file byte
// for byte; an SMND model gives bit-identical logits to its GGUF through the Engine layer; llama2.c
// checkpoints (with and without tokenizer.bin), legacy JSON checkpoints and re-quantization; damaged
// and newer files fail with the engine's codes naming the tensor; a conversion never overwrites its
// input, writes atomically (nothing under the output's name after a failure or an abort) and
// reports progress. SM_TEST_WASM_DIR points the tests at another WASM build (development).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SmallMindError } from '../../bindings/js/errors.js';
import { SmallMind } from '../../bindings/js/index.js';
import { Engine } from '../../bindings/js/engine.js';
import {
  convert, convertModel, readModel, writeModel, readGguf, readSmnd, openInput, encodeSmnd, quantizeContent,
} from '../../bindings/js/convert/index.js';
import * as G from '../../bindings/js/convert/gguf-writer.js';
import { convertLlama2cFile } from '../../bindings/js/convert/llama2c.js';
import { randomModelContent, writeRandomModel } from './support/random-model.js';
import { SHARED, sharedOrSkip } from './support/shared-data.js';

const assetsBase = process.env.SM_TEST_WASM_DIR || undefined;
/** @type {string} */ let dir;
/** @type {Engine} */ let engine;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smallmind-convert-'));
  engine = await Engine.create({ assetsBase });
});
after(async () => {
  engine.dispose();
  await rm(dir, { recursive: true, force: true });
});

/** @param {string} name */
const p = (name) => join(dir, name);

/** @param {string} code @param {RegExp} [msg] */
const fails = (code, msg) => (/** @type {any} */ e) => {
  assert.ok(e instanceof SmallMindError, `expected SmallMindError, got ${e}`);
  assert.equal(e.code, code, e.message);
  if (msg) assert.match(e.message, msg);
  return true;
};

/**
 * Logits of a prompt and of 6 greedy steps: a fingerprint of everything the model computes.
 * @param {Uint8Array} bytes @param {number[]} prompt
 */
function fingerprint(bytes, prompt) {
  const model = engine.loadModel(bytes);
  const s = model.createSession({ nCtx: 32, kvType: 'f32', ignoreEos: true });
  try {
    s.decode(prompt);
    const out = [];
    for (let i = 0; i < 6; i++) {
      out.push(s.logits());
      s.step();
    }
    return out;
  } finally {
    s.free();
    model.free();
  }
}

/** @param {Float32Array[]} a @param {Float32Array[]} b */
function sameBits(a, b) {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(Buffer.from(x.buffer).equals(Buffer.from(b[i].buffer)), `logits of step ${i} differ`));
}

/** Temporary files left beside an output (none may survive a conversion). */
async function leftovers() {
  return (await readdir(dir)).filter((f) => f.includes('.tmp-'));
}

test('GGUF → SMND → GGUF gives back the same file, byte for byte', async () => {
  const cases = [
    { weightType: 'F32' }, { weightType: 'Q4_K_M' }, { weightType: 'Q8_0' }, { weightType: 'BF16' },
    { weightType: 'Q4_0', arch: 'qwen2' }, { weightType: 'F16', arch: 'phi3' },
  ];
  for (const c of cases) {
    const name = `${c.arch ?? 'llama'}-${c.weightType}`;
    await writeRandomModel(p(`${name}.gguf`), { ...c, seed: 5, n_vocab: 300, n_embd: 256, n_layer: 1 });
    const r1 = await convertModel(p(`${name}.gguf`), p(`${name}.smnd`), { assetsBase });
    assert.equal(r1.version, 2, 'a tokenizer (and quantized weights) need version 2');
    await convertModel(p(`${name}.smnd`), p(`${name}.back.gguf`), { assetsBase });
    const [a, b] = [await readFile(p(`${name}.gguf`)), await readFile(p(`${name}.back.gguf`))];
    assert.ok(a.equals(b), `${name}: the round trip changed the file`);
  }
  // every metadata value type, including what JSON cannot say directly
  const content = {
    metadata: [
      ['general.architecture', 'llama'], ['a.u8', G.u8(255)], ['a.i8', G.i8(-128)], ['a.u16', G.u16(65535)],
      ['a.i16', G.i16(-32768)], ['a.u32', G.u32(4294967295)], ['a.i32', G.i32(-2147483648)],
      ['a.u64', G.u64(18446744073709551615n)], ['a.i64', G.i64(-9223372036854775808n)], ['a.u64s', G.u64(7n)],
      ['a.f32', G.f32(1e-5)], ['a.nan', G.f32(NaN)], ['a.inf', G.f64(-Infinity)], ['a.negzero', G.f32(-0)],
      ['a.f64', G.f64(0.1)], ['a.bool', G.bool(false)], ['a.str', G.str('tab\t"quote" \\ é 🦙 \u0001')],
      ['a.bytes', { type: G.GGUF_TYPE.STRING, value: new Uint8Array([0xff, 0x00, 0x80]) }],
      ['a.empty', G.arr(G.GGUF_TYPE.INT64, [])], ['a.bools', G.arr(G.GGUF_TYPE.BOOL, [true, false, true])],
      ['a.f64s', G.arr(G.GGUF_TYPE.FLOAT64, [1.5, -2e300])], ['a.u64a', G.arr(G.GGUF_TYPE.UINT64, [2n ** 60n, 1n])],
      ['a.strs', G.arr(G.GGUF_TYPE.STRING, ['', 'x', '\u2581the', new Uint8Array([0xc0])])],
      ['general.alignment', G.u32(64)],
    ],
    tensors: [
      { name: 'x', type: G.GGML_TYPE.F32, dims: [3], data: G.encodeFloats([1, 2, 3]) },
      { name: 'y', type: G.GGML_TYPE.Q8_0, dims: [32, 2], data: new Uint8Array(68).fill(7) },
    ],
  };
  await writeFile(p('values.gguf'), G.encodeGguf(/** @type {any} */ (content)));
  await convertModel(p('values.gguf'), p('values.smnd'), { assetsBase });
  await convertModel(p('values.smnd'), p('values.back.gguf'), { assetsBase });
  assert.ok((await readFile(p('values.gguf'))).equals(await readFile(p('values.back.gguf'))));
  // and SMND → GGUF → SMND, with the same provenance, gives the same SMND bytes
  const back = await readModel(p('values.back.gguf'));
  await writeModel(p('values.again.smnd'), back.content, { to: 'smnd', provenance: { tool: 'x' }, assetsBase });
  await back.close();
  const first = await readModel(p('values.smnd'));
  await writeModel(p('values.again2.smnd'), first.content, { to: 'smnd', provenance: { tool: 'x' }, assetsBase });
  await first.close();
  assert.ok((await readFile(p('values.again.smnd'))).equals(await readFile(p('values.again2.smnd'))));
  assert.deepEqual(await leftovers(), []);
});

test('an SMND model computes bit-identical logits to the GGUF it came from', async () => {
  for (const c of [{ weightType: 'F32' }, { weightType: 'Q4_K_M' }, { weightType: 'Q6_K' }, { weightType: 'Q8_0', arch: 'qwen2' }, { weightType: 'F16', arch: 'gemma2' }]) {
    const name = `logits-${c.arch ?? 'llama'}-${c.weightType}`;
    await writeRandomModel(p(`${name}.gguf`), { ...c, seed: 9, n_vocab: 320, n_embd: 256, n_layer: 2 });
    await convertModel(p(`${name}.gguf`), p(`${name}.smnd`), { assetsBase });
    const prompt = [1, 17, 99, 250, 3, 42];
    sameBits(fingerprint(await readFile(p(`${name}.gguf`)), prompt), fingerprint(await readFile(p(`${name}.smnd`)), prompt));
    // the tokenizer and the file facts agree too
    const [a, b] = [engine.loadModel(await readFile(p(`${name}.gguf`))), engine.loadModel(await readFile(p(`${name}.smnd`)))];
    assert.deepEqual(b.tokenizer?.tokenize('hello world, t5 t9!'), a.tokenizer?.tokenize('hello world, t5 t9!'));
    assert.deepEqual({ ...b.info, file_bytes: 0 }, { ...a.info, file_bytes: 0 });
    a.free();
    b.free();
  }
});

test('the JS SMND reader gives what the GGUF reader gives; damaged and newer files fail by name', async () => {
  await writeRandomModel(p('r.gguf'), { weightType: 'Q8_0', seed: 2, n_vocab: 64, n_embd: 64, n_layer: 1, n_ff: 128 });
  await convertModel(p('r.gguf'), p('r.smnd'), { assetsBase });
  const gi = await openInput(p('r.gguf')), si = await openInput(p('r.smnd'));
  const g = await readGguf(gi), s = await readSmnd(si);
  assert.equal(s.version, 2);
  assert.deepEqual(s.metadata, g.metadata);
  assert.equal(s.provenance?.source, 'r.gguf');
  for (let i = 0; i < g.tensors.length; i++) {
    assert.deepEqual({ ...s.tensors[i], data: 0 }, { ...g.tensors[i], data: 0 });
    assert.ok(Buffer.from(await s.tensors[i].data()).equals(Buffer.from(await g.tensors[i].data())));
  }
  await gi.close();
  await si.close();

  const good = await readFile(p('r.smnd'));
  const t3 = s.tensors[3];
  // a flipped byte inside tensor 3's data: the engine and the JS reader name it
  const bad = Buffer.from(good);
  const at = bad.indexOf(Buffer.from(t3.name)) + t3.name.length + 100;
  bad[at] ^= 1;
  assert.throws(() => engine.loadModel(bad), fails('SM_ERR_CORRUPT', new RegExp(`tensor 3 of \\d+ '${t3.name.replace(/\./g, '\\.')}'.*CRC`)));
  await writeFile(p('bad.smnd'), bad);
  await assert.rejects(convertModel(p('bad.smnd'), p('bad.gguf'), { assetsBase }), fails('SM_ERR_CORRUPT', new RegExp(t3.name.replace(/\./g, '\\.'))));
  await assert.rejects(readFile(p('bad.gguf')), { code: 'ENOENT' });
  // truncated, newer, not SMND at all
  assert.throws(() => engine.loadModel(good.subarray(0, good.length - 10)), fails('SM_ERR_CORRUPT', /truncated.*tensor/));
  const newer = Buffer.from(good);
  newer[4] = 3;
  assert.throws(() => engine.loadModel(newer), fails('SM_ERR_VERSION', /version 3 needs a newer SmallMind/));
  await writeFile(p('newer.smnd'), newer);
  await assert.rejects(convertModel(p('newer.smnd'), p('newer.gguf'), { assetsBase }), fails('SM_ERR_VERSION', /version 3/));
  const magic = Buffer.from(good);
  magic[1] = 0x58;
  assert.throws(() => engine.loadModel(magic), fails('SM_ERR_CORRUPT', /magic/));
  // the engine's tokenizer loader reads SMND too
  const tok = engine.loadTokenizer(good);
  assert.ok(tok.tokenize('t1 t2').length > 0);
  tok.free();
  assert.deepEqual(await leftovers(), []);
});

test('converters never overwrite their input, write atomically and report progress', async () => {
  await writeRandomModel(p('in.gguf'), { weightType: 'F32', seed: 4, n_vocab: 64, n_embd: 64, n_layer: 1, n_ff: 128 });
  await assert.rejects(convertModel(p('in.gguf'), p('in.gguf'), { to: 'smnd', assetsBase }), fails('SM_ERR_INVALID_ARG', /never overwrites its input/));
  await writeFile(p('exists.smnd'), 'x');
  await assert.rejects(convertModel(p('in.gguf'), p('exists.smnd'), { assetsBase }), fails('SM_ERR_INVALID_ARG', /already exists/));
  await convertModel(p('in.gguf'), p('exists.smnd'), { overwrite: true, assetsBase });
  await assert.rejects(convertModel(p('in.gguf'), p('x.bin'), { assetsBase }), fails('SM_ERR_INVALID_ARG', /\.gguf or \.smnd/));
  await assert.rejects(convertModel(p('missing.gguf'), p('m.smnd'), { assetsBase }), { code: 'ENOENT' });
  await mkdir(p('adir'));
  await assert.rejects(convertModel(p('adir'), p('m.smnd'), { assetsBase }), { code: 'EISDIR' });
  await writeFile(p('junk.bin'), 'abc');
  await assert.rejects(convertModel(p('junk.bin'), p('j.smnd'), { assetsBase }), fails('SM_ERR_INVALID_ARG', /not a model file/));
  await assert.rejects(convertModel(p('in.gguf'), p('q.smnd'), { quantize: 'Q3_Z', assetsBase }), fails('SM_ERR_INVALID_ARG', /Q8_0/));

  for (const to of ['smnd', 'gguf']) {
    /** @type {{done: number, total: number}[]} */
    const seen = [];
    const r = await convertModel(p('in.gguf'), p(`progress.${to}`), { assetsBase, onProgress: (x) => seen.push(x) });
    assert.ok(seen.length > 3);
    assert.ok(seen.every((x, i) => x.total === r.bytes && x.done <= x.total && (i === 0 || x.done >= seen[i - 1].done)));
    assert.equal(seen.at(-1)?.done, r.bytes);
    // an abort part-way leaves nothing under the output's name
    const ac = new AbortController();
    let n = 0;
    await assert.rejects(convertModel(p('in.gguf'), p(`aborted.${to}`), {
      assetsBase, signal: ac.signal, onProgress: () => { if (++n === 3) ac.abort(); },
    }), { name: 'AbortError' });
    await assert.rejects(readFile(p(`aborted.${to}`)), { code: 'ENOENT' });
  }
  assert.deepEqual(await leftovers(), []);
});

test('llama2.c checkpoints: stories260K as GGUF and SMND run the same; tokenizer.bin becomes the vocabulary', async (t) => {
  const ckpt = join(SHARED, 'models/stories260K/stories260K.bin');
  if (!sharedOrSkip(t, ckpt)) return;
  // the GGUF is what the existing llama2.c converter writes
  await convertLlama2cFile(ckpt, p('s.ref.gguf'));
  await convertModel(ckpt, p('s.gguf'), { name: 'llama2c', assetsBase });
  assert.ok((await readFile(p('s.gguf'))).equals(await readFile(p('s.ref.gguf'))));
  const r = await convertModel(ckpt, p('s.smnd'), { name: 'llama2c', assetsBase });
  assert.equal(r.from, 'llama2c');
  sameBits(fingerprint(await readFile(p('s.gguf')), [1]), fingerprint(await readFile(p('s.smnd')), [1]));

  // a tokenizer.bin in llama2.c's export format, made from llama's SentencePiece vocabulary, and a
  // random checkpoint of that vocabulary size: the converted tokenizer splits text as the original
  const vocabPath = join(SHARED, 'vocab/ggml-vocab-llama-spm.gguf');
  if (!sharedOrSkip(t, vocabPath)) return;
  const vi = await openInput(vocabPath);
  const vocab = await readGguf(vi);
  await vi.close();
  const tokens = /** @type {string[]} */ (vocab.metadata.find(([k]) => k === 'tokenizer.ggml.tokens')?.[1].value);
  const scores = /** @type {Float32Array} */ (vocab.metadata.find(([k]) => k === 'tokenizer.ggml.scores')?.[1].value);
  const parts = [Buffer.alloc(4)];
  tokens.forEach((tok, i) => {
    const text = i === 1 ? '\n<s>\n' : i === 2 ? '\n</s>\n' : tok.replaceAll('\u2581', ' ');
    const b = Buffer.from(text, 'utf8');
    const h = Buffer.alloc(8);
    h.writeFloatLE(scores[i], 0);
    h.writeInt32LE(b.length, 4);
    parts.push(h, b);
  });
  await writeFile(p('tokenizer.bin'), Buffer.concat(parts));
  const [dim, hidden, layers, heads, n_vocab, seq] = [16, 32, 1, 2, tokens.length, 32];
  const header = Buffer.alloc(28);
  [dim, hidden, layers, heads, heads, n_vocab, seq].forEach((v, i) => header.writeInt32LE(v, i * 4));
  const nFloats = n_vocab * dim + layers * (2 * dim + 4 * dim * dim + 3 * dim * hidden) + dim + seq * (dim / heads);
  const weights = new Float32Array(nFloats).map((_, i) => Math.sin(i) * 0.1);
  await writeFile(p('big-vocab.bin'), Buffer.concat([header, Buffer.from(weights.buffer)]));
  await convertModel(p('big-vocab.bin'), p('big-vocab.smnd'), { tokenizer: p('tokenizer.bin'), assetsBase });
  const model = engine.loadModel(await readFile(p('big-vocab.smnd')));
  const ref = engine.loadTokenizer(await readFile(vocabPath));
  const inp = await readFile(`${vocabPath}.inp`, 'utf8');
  const texts = inp.split('\n__ggml_vocab_test__\n').filter((x) => x.length);
  assert.ok(texts.length > 10);
  for (const text of texts) {
    assert.deepEqual(model.tokenizer?.tokenize(text), ref.tokenize(text), JSON.stringify(text));
  }
  assert.ok((model.tokenizer?.tokenize('Hello world').length ?? 99) <= 3, 'whole words, not bytes');
  ref.free();
  model.free();
  await assert.rejects(convertModel(p('in.gguf'), p('tok.smnd'), { tokenizer: p('tokenizer.bin'), assetsBase }), fails('SM_ERR_INVALID_ARG', /llama2\.c/));
});

test('legacy JSON checkpoints become version 1 SMND files that run like the model they hold', async () => {
  const { content } = randomModelContent({ weightType: 'F32', seed: 12, n_vocab: 64, n_embd: 64, n_layer: 1, n_ff: 128 });
  const metadata = /** @type {Array<[string, any]>} */ (content.metadata).filter(([k]) => !k.startsWith('tokenizer.'));
  const plain = { ...content, metadata };
  await writeFile(p('j.gguf'), G.encodeGguf(/** @type {any} */ (plain)));
  /** @type {Record<string, unknown>} */
  const meta = {};
  for (const [k, v] of metadata) {
    meta[k] = typeof v === 'string' ? v : { type: { 4: 'u32', 5: 'i32', 6: 'f32', 8: 'str', 7: 'bool' }[/** @type {number} */ (v.type)], value: v.value };
  }
  const tensors = Object.fromEntries(plain.tensors.map((t) => {
    const bytes = /** @type {Uint8Array} */ (typeof t.data === 'function' ? t.data() : t.data);
    return [t.name, { shape: [...t.dims].reverse(), data: Array.from(new Float32Array(bytes.slice().buffer)) }];
  }));
  await writeFile(p('legacy.json'), JSON.stringify({ metadata: meta, tensors }));
  const r = await convertModel(p('legacy.json'), p('legacy.smnd'), { assetsBase });
  assert.equal(r.from, 'json');
  assert.equal(r.version, 1);
  sameBits(fingerprint(await readFile(p('j.gguf')), [1, 2, 3]), fingerprint(await readFile(p('legacy.smnd')), [1, 2, 3]));
  // the llama2.c-style config and bare values typed by key
  const cfg = {
    config: { dim: 64, hidden_dim: 128, n_layers: 1, n_heads: 4, n_kv_heads: 4, vocab_size: 64, seq_len: 256, norm_eps: 1e-5, rope_theta: 10000 },
    metadata: { 'general.name': 'from-config' },
    tensors,
  };
  await writeFile(p('config.json'), JSON.stringify(cfg));
  await convertModel(p('config.json'), p('config.smnd'), { assetsBase });
  const m = engine.loadModel(await readFile(p('config.smnd')));
  assert.equal(m.info.name, 'from-config');
  assert.equal(m.info.n_ctx_train, 256);
  m.free();
  await writeFile(p('short.json'), JSON.stringify({ tensors: { a: { shape: [2, 2], data: [1, 2, 3] } } }));
  await assert.rejects(convertModel(p('short.json'), p('short.smnd'), { assetsBase }), fails('SM_ERR_FORMAT', /'a'.*4 numbers/));
  await assert.rejects(encodeSmnd({ metadata: [['a', G.arr(G.GGUF_TYPE.ARRAY, [])]], tensors: [] }, { assetsBase }), fails('SM_ERR_UNSUPPORTED', /array of arrays/));
});

test('re-quantization: F32/F16 weights to Q8_0, Q4_0, Q4_K, Q6_K with the engine\'s quantizers', async () => {
  await writeRandomModel(p('f32.gguf'), { weightType: 'F32', seed: 21, n_vocab: 256, n_embd: 256, n_layer: 1, n_ff: 512 });
  await writeRandomModel(p('f16.gguf'), { weightType: 'F16', seed: 21, n_vocab: 256, n_embd: 256, n_layer: 1, n_ff: 512 });
  const prompt = [1, 50, 100, 150];
  const ref = fingerprint(await readFile(p('f32.gguf')), prompt)[0];
  for (const [src, type, tol] of /** @type {const} */ ([['f32', 'Q8_0', 0.05], ['f16', 'Q4_0', 0.35], ['f16', 'Q4_K', 0.35], ['f32', 'Q6_K', 0.1]])) {
    const r = await convertModel(p(`${src}.gguf`), p(`${src}-${type}.smnd`), { quantize: type, assetsBase });
    await convertModel(p(`${src}.gguf`), p(`${src}-${type}.gguf`), { quantize: type, assetsBase });
    assert.ok(r.quantized.length >= 8, 'every matrix is converted');
    assert.ok(r.kept.every((k) => k.reason === 'not a matrix'));
    const si = await openInput(p(`${src}-${type}.smnd`)), gi = await openInput(p(`${src}-${type}.gguf`));
    const s = await readSmnd(si), g = await readGguf(gi);
    for (let i = 0; i < s.tensors.length; i++) {
      const t = s.tensors[i];
      assert.equal(t.type, t.dims.length > 1 ? G.GGML_TYPE[type] : G.GGML_TYPE.F32, t.name);
      assert.ok(Buffer.from(await t.data()).equals(Buffer.from(await g.tensors[i].data())), 'GGUF and SMND outputs hold the same blocks');
    }
    assert.deepEqual(s.metadata.find(([k]) => k === 'general.file_type')?.[1].value, { Q8_0: 7, Q4_0: 2, Q4_K: 14, Q6_K: 18 }[type]);
    await si.close();
    await gi.close();
    const got = fingerprint(await readFile(p(`${src}-${type}.smnd`)), prompt)[0];
    let num = 0, den = 0;
    for (let i = 0; i < ref.length; i++) { num += (got[i] - ref[i]) ** 2; den += ref[i] ** 2; }
    assert.ok(Math.sqrt(num / den) < tol, `${type}: relative logit error ${Math.sqrt(num / den)}`);
  }
  // already-quantized weights are not quantized again
  await assert.rejects(convertModel(p('f32-Q8_0.gguf'), p('twice.gguf'), { quantize: 'Q4_0', assetsBase }), fails('SM_ERR_UNSUPPORTED', /starts from F32, F16 or BF16/));
  const q = await quantizeContent({ metadata: [], tensors: [] }, { type: 'q8_0', assetsBase });
  assert.deepEqual(q.content.metadata, [['general.file_type', { type: G.GGUF_TYPE.UINT32, value: 7 }]]);
});

test('convert(): the CLI entry point maps --type and leaves --force to its caller', async () => {
  await writeRandomModel(p('cli.gguf'), { weightType: 'F32', seed: 8, n_vocab: 64, n_embd: 64, n_layer: 1, n_ff: 128 });
  await writeFile(p('cli.smnd'), 'old');
  const r = await convert(p('cli.gguf'), p('cli.smnd'), { type: 'q8_0', assetsBase });
  assert.equal(r.to, 'smnd');
  assert.ok(r.quantized.length > 0);
  const s = await readModel(p('cli.smnd'));
  assert.ok(s.content.tensors.some((t) => t.type === G.GGML_TYPE.Q8_0));
  assert.equal(/** @type {any} */ (s.content.provenance).quantized_to, 'Q8_0');
  await s.close();
  await assert.rejects(convert(p('cli.gguf'), p('cli.gguf'), { to: 'gguf', assetsBase }), fails('SM_ERR_INVALID_ARG', /input/));
});

test('SmallMind.load takes an SMND file as it takes a GGUF (path and bytes) and says what is wrong with a damaged one', { skip: !!assetsBase && 'uses the package\'s own WASM build' }, async () => {
  await writeRandomModel(p('pkg.gguf'), { weightType: 'Q8_0', seed: 31, n_vocab: 256, n_embd: 128, n_layer: 2, n_ff: 256 });
  await convertModel(p('pkg.gguf'), p('pkg.smnd'));
  const opts = { maxTokens: 16, ignoreEos: true, temperature: 0 };
  const texts = [];
  for (const src of [p('pkg.gguf'), p('pkg.smnd'), new Uint8Array(await readFile(p('pkg.smnd')))]) {
    const model = await SmallMind.load(/** @type {any} */ (src), { threads: 1 });
    try {
      texts.push((await model.complete([1, 5, 9], opts)).text);
      if (typeof src === 'string' && src.endsWith('.smnd')) assert.equal((await model.inspect()).format, 'smnd');
    } finally {
      await model.dispose();
    }
  }
  assert.equal(texts[1], texts[0]);
  assert.equal(texts[2], texts[0]);
  const bad = Buffer.from(await readFile(p('pkg.smnd')));
  bad[bad.length - 100] ^= 0x10;
  await writeFile(p('pkg-bad.smnd'), bad);
  await assert.rejects(SmallMind.load(p('pkg-bad.smnd'), { threads: 1 }), (/** @type {any} */ e) => e.code === 'SM_ERR_CORRUPT' && /CRC/.test(e.message));
});
