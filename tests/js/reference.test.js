// The JS half of the correctness proof: our GGUF writer, the llama2.c converter and the random-model
// generator, checked against llama.cpp (node-llama-cpp's prebuilt CPU binary) and against
// node-llama-cpp's own GGUF parser. The engine parity tests reuse tests/js/support/.
//
// stories260K lives in ../shared (beside the repo). Without it the converter test skips, except
// under CI=true, where a missing ../shared is a failure.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readGgufFileInfo } from 'node-llama-cpp';

import * as G from '../../bindings/js/convert/gguf-writer.js';
import { convertLlama2cFile, parseLlama2c } from '../../bindings/js/convert/llama2c.js';
import { WEIGHT_TYPES, randomLlamaContent, writeRandomLlama } from './support/random-model.js';
import {
    argmax, disposeReferenceLlama, referenceGreedy, referenceLogits, runStats,
} from './support/llama-ref.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const STORIES = join(REPO, '..', 'shared', 'models', 'stories260K', 'stories260K.bin');
// From shared/models/stories260K/README.md: llama.cpp, F32 weights and KV, prompt [1].
const STORIES_EXPECTED = [461, 461, 401, 401, 401, 461, 378, 455, 473, 456, 435, 299, 362, 409, 283, 264];

// Thresholds for "the random model is not degenerate", over 64 greedy steps. A sweep of 560 runs
// (14 weight types x 5 shapes/RoPE variants x 8 seeds) gave distinct tokens median 56, minimum 36
// (one outlier at 2), and a median top-1/top-2 gap of median 2.0, minimum 1.1. A collapsed model
// repeats 1-10 tokens; the flat logits of naive 1/sqrt(fan_in) scales give median gaps near 0.6.
const MIN_DISTINCT = 24;
const MIN_MEDIAN_GAP = 1.0;
const STEPS = 64;

/** @type {string} */
let dir;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'smallmind-ref-')); });
after(async () => {
    await disposeReferenceLlama();
    if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Whether stories260K is present; fails under CI when it is not, skips otherwise.
 * @param {import('node:test').TestContext} t
 */
function storiesOrSkip(t) {
    if (existsSync(STORIES)) return true;
    if (process.env.CI === 'true') {
        assert.fail(`${STORIES} is missing: CI runs with shared/ beside the repo, so this is an error`);
    }
    t.skip(`stories260K not found at ${STORIES} (shared/ is not beside the repo): skipped`);
    return false;
}

/**
 * A random legacy llama2.c checkpoint (untied: negative vocab_size, wcls at the end).
 * @param {{dim: number, hidden: number, layers: number, heads: number, kvHeads: number,
 *   vocab: number, seqLen: number}} c
 * @param {number} seed
 * @returns {Uint8Array}
 */
function syntheticLlama2c(c, seed) {
    const kvDim = (c.dim * c.kvHeads) / c.heads;
    const headSize = c.dim / c.heads;
    const L = c.layers;
    const n = c.vocab * c.dim + L * c.dim + L * c.dim * c.dim + 2 * L * kvDim * c.dim + L * c.dim * c.dim
        + L * c.dim + 3 * L * c.hidden * c.dim + c.dim + c.seqLen * headSize + c.vocab * c.dim;
    const buf = new ArrayBuffer(28 + 4 * n);
    new Int32Array(buf, 0, 7).set([c.dim, c.hidden, L, c.heads, c.kvHeads, -c.vocab, c.seqLen]);
    const f = new Float32Array(buf, 28, n);
    let x = seed >>> 0;
    for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
        f[i] = (x / 2 ** 32 - 0.5) * 0.5;
    }
    return new Uint8Array(buf);
}

describe('gguf-writer', () => {
    test('every value type, nested arrays, alignment and offsets read back by an independent parser', async () => {
        const T = G.GGUF_TYPE;
        const path = join(dir, 'types.gguf');
        /** @type {G.GgufContent} */
        const content = {
            metadata: [
                ['general.architecture', 'llama'],
                ['t.u8', G.u8(255)], ['t.i8', G.i8(-128)], ['t.u16', G.u16(65535)], ['t.i16', G.i16(-32768)],
                ['t.u32', G.u32(4294967295)], ['t.i32', G.i32(-2147483648)],
                ['t.u64', G.u64(2n ** 63n + 5n)], ['t.i64', G.i64(-(2n ** 62n))],
                ['t.f32', G.f32(1.5)], ['t.f64', G.f64(Math.PI)], ['t.bool', false], ['t.str', 'héllo ✓'],
                ['t.arr_str', G.arr(T.STRING, ['a', '', 'ü'])],
                ['t.arr_i32', G.arr(T.INT32, new Int32Array([1, -2, 3]))],
                ['t.arr_f32', G.arr(T.FLOAT32, new Float32Array([0.25, -8]))],
                ['t.arr_bool', G.arr(T.BOOL, [true, false])],
                ['t.nested', G.arr(T.ARRAY, [G.arr(T.UINT8, [1, 2]), G.arr(T.STRING, ['x'])])],
                ['t.empty', G.arr(T.FLOAT32, [])],
            ],
            tensors: [
                { name: 'a', type: G.GGML_TYPE.F32, dims: [3], data: G.encodeFloats([1, 2, 3]) },
                { name: 'b', type: G.GGML_TYPE.Q8_0, dims: [32, 2], data: () => new Uint8Array(68).fill(7) },
                { name: 'c', type: G.GGML_TYPE.Q4_K, dims: [256, 1, 2], data: new Uint8Array(288) },
            ],
            alignment: 64,
        };
        await G.writeGguf(path, content);
        const info = await readGgufFileInfo(path, { logWarnings: false });
        const m = /** @type {any} */ (info.metadata);
        assert.equal(info.version, 3);
        assert.equal(m.general.alignment, 64);
        assert.deepEqual(
            [m.t.u8, m.t.i8, m.t.u16, m.t.i16, m.t.u32, m.t.i32, m.t.u64, m.t.i64],
            [255, -128, 65535, -32768, 4294967295, -2147483648, 2n ** 63n + 5n, -(2n ** 62n)],
        );
        assert.equal(m.t.f32, 1.5);
        assert.equal(m.t.f64, Math.PI);
        assert.equal(m.t.bool, false);
        assert.equal(m.t.str, 'héllo ✓');
        assert.deepEqual(m.t.arr_str, ['a', '', 'ü']);
        assert.deepEqual(m.t.arr_i32, [1, -2, 3]);
        assert.deepEqual(m.t.arr_f32, [0.25, -8]);
        assert.deepEqual(m.t.arr_bool, [true, false]);
        assert.deepEqual(m.t.nested, [[1, 2], ['x']]);
        assert.deepEqual(m.t.empty, []);
        const ti = /** @type {any[]} */ (info.tensorInfo);
        assert.deepEqual(ti.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType, Number(t.offset)]),
            [['a', [3], 0, 0], ['b', [32, 2], 8, 64], ['c', [256, 1, 2], 12, 192]]);
        const bytes = await readFile(path);
        const dataStart = Number(ti[0].fileOffset);
        assert.equal(dataStart % 64, 0);
        assert.equal(bytes[dataStart + 64], 7); // tensor b's first byte
        assert.equal(bytes.length % 64, 0);
        assert.deepEqual(new Uint8Array(bytes), G.encodeGguf(content)); // stream == in-memory
    });

    test('a failed write leaves neither the file nor a temporary', async () => {
        const sub = await mkdtemp(join(dir, 'fail-'));
        const path = join(sub, 'bad.gguf');
        const bad = { name: 'x', type: G.GGML_TYPE.F32, dims: [4], data: new Uint8Array(15) };
        await assert.rejects(G.writeGguf(path, { metadata: [], tensors: [bad] }), /16 expected/);
        const lazyFail = { name: 'y', type: G.GGML_TYPE.F32, dims: [1], data: () => { throw new Error('boom'); } };
        await assert.rejects(G.writeGguf(path, { metadata: [], tensors: [lazyFail] }), /boom/);
        assert.deepEqual(await readdir(sub), []);
        const untyped = { metadata: [['k', /** @type {any} */ (3)]], tensors: [] };
        assert.throws(() => G.encodeGguf(/** @type {any} */ (untyped)), /explicit type/);
        assert.throws(() => G.ggmlTensorBytes(G.GGML_TYPE.Q4_K, [128, 2]), /multiple of Q4_K/);
    });

    test('half and bfloat16 encoders round to nearest even', () => {
        const cases = [[0, 0], [-0, 0x8000], [1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [65520, 0x7c00],
            [2 ** -24, 0x0001], [2 ** -25, 0], [3 * 2 ** -25, 0x0002], [6.103515625e-5, 0x0400],
            [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [Infinity, 0x7c00]];
        for (const [x, h] of cases) assert.equal(G.f32ToF16Bits(x), h, `f16(${x})`);
        for (let h = 0; h < 0x7c00; h += 97) assert.equal(G.f32ToF16Bits(G.f16BitsToF32(h)), h);
        assert.equal(G.f32ToBf16Bits(1), 0x3f80);
        assert.equal(G.f32ToBf16Bits(1 + 2 ** -8), 0x3f80); // tie to even
        assert.equal(G.f32ToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
        assert.ok(Number.isNaN(G.f16BitsToF32(G.f32ToF16Bits(NaN))));
    });
});

describe('llama2.c converter', () => {
    test('stories260K (F32) reproduces llama.cpp\'s greedy ids from the README', async (t) => {
        if (!storiesOrSkip(t)) return;
        const out = join(dir, 'stories260K.gguf');
        const { config } = await convertLlama2cFile(STORIES, out);
        assert.deepEqual([config.dim, config.hidden_dim, config.n_layers, config.n_heads, config.n_kv_heads,
            config.vocab_size, config.seq_len, config.shared_classifier], [64, 172, 5, 8, 4, 512, 512, true]);
        const run = await referenceGreedy(out, [1], STORIES_EXPECTED.length);
        assert.deepEqual(run.tokens, STORIES_EXPECTED);
        assert.equal(run.nVocab, 512);
        run.logits.forEach((l, i) => assert.equal(argmax(l), run.tokens[i]));
    });

    test('stories260K as F16 and with an untied classifier gives the same ids', async (t) => {
        if (!storiesOrSkip(t)) return;
        const f16 = join(dir, 'stories260K-f16.gguf');
        await convertLlama2cFile(STORIES, f16, { weightType: 'F16' });
        assert.deepEqual((await referenceGreedy(f16, [1], STORIES_EXPECTED.length)).tokens, STORIES_EXPECTED);

        // Same checkpoint with wcls = a copy of the embedding and vocab_size negated: exercises the
        // output.weight path, which must behave exactly like the tied head.
        const src = new Uint8Array(await readFile(STORIES));
        const { tensors } = parseLlama2c(src);
        const emb = /** @type {{bytes: Uint8Array}} */ (tensors.get('token_embedding_table')).bytes;
        const untied = new Uint8Array(src.length + emb.length);
        untied.set(src);
        untied.set(emb, src.length);
        new DataView(untied.buffer).setInt32(20, -512, true);
        const bin = join(dir, 'stories260K-untied.bin');
        const gguf = join(dir, 'stories260K-untied.gguf');
        await writeFile(bin, untied);
        const { config } = await convertLlama2cFile(bin, gguf);
        assert.equal(config.shared_classifier, false);
        const info = await readGgufFileInfo(gguf, { logWarnings: false });
        const out = /** @type {any[]} */ (info.tensorInfo).find((x) => x.name === 'output.weight');
        assert.deepEqual(out.dimensions.map(Number), [64, 512]);
        assert.deepEqual((await referenceGreedy(gguf, [1], STORIES_EXPECTED.length)).tokens, STORIES_EXPECTED);
    });

    test('a synthetic untied GQA checkpoint converts with llama.cpp\'s names and shapes and runs', async () => {
        const c = { dim: 64, hidden: 96, layers: 2, heads: 4, kvHeads: 2, vocab: 300, seqLen: 64 };
        const src = syntheticLlama2c(c, 7);
        const bin = join(dir, 'synthetic.bin');
        const gguf = join(dir, 'synthetic.gguf');
        await writeFile(bin, src);
        await convertLlama2cFile(bin, gguf, { name: 'synthetic' });
        const info = await readGgufFileInfo(gguf, { logWarnings: false });
        const ti = /** @type {any[]} */ (info.tensorInfo);
        const dims = new Map(ti.map((x) => [x.name, x.dimensions.map(Number)]));
        assert.equal(dims.size, 3 + 9 * c.layers);
        assert.deepEqual(dims.get('token_embd.weight'), [64, 300]);
        assert.deepEqual(dims.get('output.weight'), [64, 300]);
        assert.deepEqual(dims.get('output_norm.weight'), [64]);
        assert.deepEqual(dims.get('blk.1.attn_q.weight'), [64, 64]);
        assert.deepEqual(dims.get('blk.1.attn_k.weight'), [64, 32]);
        assert.deepEqual(dims.get('blk.1.attn_v.weight'), [64, 32]);
        assert.deepEqual(dims.get('blk.1.attn_output.weight'), [64, 64]);
        assert.deepEqual(dims.get('blk.0.ffn_gate.weight'), [64, 96]);
        assert.deepEqual(dims.get('blk.0.ffn_down.weight'), [96, 64]);
        assert.deepEqual(dims.get('blk.0.ffn_up.weight'), [64, 96]);
        const m = /** @type {any} */ (info.metadata);
        assert.equal(m.general.name, 'synthetic');
        assert.deepEqual([m.llama.embedding_length, m.llama.feed_forward_length, m.llama.block_count,
            m.llama.attention.head_count, m.llama.attention.head_count_kv, m.llama.rope.dimension_count,
            m.llama.context_length, m.tokenizer.ggml.tokens.length], [64, 96, 2, 4, 2, 16, 64, 300]);
        assert.deepEqual(m.tokenizer.ggml.tokens.slice(0, 4), ['<unk>', '<s>', '</s>', '<0x00>']);
        assert.equal(m.tokenizer.ggml.tokens[258], '<0xFF>');
        assert.equal(m.tokenizer.ggml.tokens[299], 't299');
        const run = await referenceGreedy(gguf, [1, 5], 4);
        assert.equal(run.nVocab, 300);

        assert.throws(() => parseLlama2c(src.subarray(0, src.length - 4)), /truncated/);
        assert.throws(() => parseLlama2c(new Uint8Array([...src, 0, 0, 0, 0])), /trailing/);
        assert.throws(() => parseLlama2c(src.subarray(0, 20)), /header/);
        const badHeader = src.slice();
        new DataView(badHeader.buffer).setInt32(12, 3, true); // 64 % 3 heads
        assert.throws(() => parseLlama2c(badHeader), /implausible/);
    });
});

describe('random llama models under llama.cpp', () => {
    /**
     * Writes a random model, runs 64 greedy steps under llama.cpp, checks it is not degenerate.
     * @param {import('node:test').TestContext} t
     * @param {import('./support/random-model.js').RandomModelOptions} opts
     * @param {string} [tag] distinguishes files and messages of variants
     */
    async function checkVaried(t, opts, tag = '') {
        const name = `${opts.weightType}-${opts.seed}-${opts.tied ? 'tied' : 'untied'}${tag ? `-${tag}` : ''}`;
        const { path } = await writeRandomLlama(join(dir, `${name}.gguf`), opts);
        const run = await referenceGreedy(path, [1, 100 + (opts.seed ?? 1), 300, 7], STEPS);
        const st = runStats(run);
        t.diagnostic(`${name}: distinct ${st.distinct}/${STEPS}, longest repeat ${st.maxRepeat}, `
            + `top1-top2 gap median ${st.medianGap.toFixed(2)} p10 ${st.p10Gap.toFixed(2)} `
            + `min ${st.minGap.toFixed(3)}`);
        assert.ok(st.distinct >= MIN_DISTINCT, `${name}: only ${st.distinct} distinct tokens`);
        assert.ok(st.medianGap >= MIN_MEDIAN_GAP, `${name}: median gap ${st.medianGap}`);
        return { path, run };
    }

    WEIGHT_TYPES.forEach((weightType, i) => {
        test(`${weightType}: loads and gives varied, confident greedy runs`, async (t) => {
            await checkVaried(t, { weightType, seed: 11 + i });
        });
    });

    for (const weightType of ['F32', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K', 'Q4_K_M']) {
        test(`${weightType}, tied output head (no output.weight)`, async (t) => {
            await checkVaried(t, { weightType, seed: 3, tied: true });
        });
    }

    test('GQA 8/2 heads, n_ff 768, vocab 1024, Q5_K', async (t) => {
        const shape = { n_head: 8, n_head_kv: 2, n_ff: 768, n_vocab: 1024 };
        await checkVaried(t, { weightType: 'Q5_K', seed: 5, ...shape }, 'gqa');
    });

    test('RoPE options are honoured by llama.cpp (each changes the logits)', async (t) => {
        const base = { weightType: 'Q4_K_M', seed: 21, n_head_kv: 1 };
        const prompt = [1, 50, 60, 70, 80, 90];
        const { path: basePath } = await writeRandomLlama(join(dir, 'rope-base.gguf'), base);
        const ref = await referenceLogits(basePath, prompt);
        const variants = {
            freqBase: { freqBase: 500000 },
            linear: { ropeScaleLinear: 4 },
            ropeFreqs: { ropeFreqs: true },
        };
        for (const [name, extra] of Object.entries(variants)) {
            const { path } = await checkVaried(t, { ...base, ...extra }, name);
            const got = await referenceLogits(path, prompt);
            let maxDiff = 0;
            for (let i = 0; i < got.length; i++) {
                for (let j = 0; j < got[i].length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(got[i][j] - ref[i][j]));
                }
            }
            t.diagnostic(`${name}: max |Δlogit| vs default RoPE ${maxDiff.toFixed(3)}`);
            // position 0 is not rotated, so only later positions can move
            assert.ok(maxDiff > 0.5, `${name}: logits unchanged (${maxDiff}), llama.cpp ignored the option`);
        }
    });

    test('teacher-forced logits match the greedy run\'s logits', async () => {
        const { path } = await writeRandomLlama(join(dir, 'tf.gguf'), { weightType: 'Q8_0', seed: 4 });
        const prompt = [1, 9, 99];
        const run = await referenceGreedy(path, prompt, 8);
        const forced = await referenceLogits(path, [...prompt, ...run.tokens.slice(0, -1)], { perToken: true });
        for (let i = 0; i < run.logits.length; i++) {
            const a = run.logits[i], b = forced[prompt.length - 1 + i];
            for (let j = 0; j < a.length; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-3, `step ${i} token ${j}`);
        }
    });

    test('generation is deterministic in the seed and K-quant shapes are checked', () => {
        const a = G.encodeGguf(randomLlamaContent({ weightType: 'Q3_K', seed: 9 }).content);
        const b = G.encodeGguf(randomLlamaContent({ weightType: 'Q3_K', seed: 9 }).content);
        const c = G.encodeGguf(randomLlamaContent({ weightType: 'Q3_K', seed: 10 }).content);
        assert.deepEqual(a, b);
        assert.notDeepEqual(a, c);
        const narrow = randomLlamaContent({ weightType: 'Q4_K', n_embd: 128, n_head: 2 }).content;
        assert.throws(() => G.encodeGguf(narrow), /multiple of Q4_K/);
    });
});
