// Random `llama` GGUF models for parity tests against llama.cpp: every weight type we support, tied
// or untied output, GQA, RoPE variants (freq_base, linear scaling, Llama-3 `rope_freqs.weight`).
// Not a quantizer: quantized tensors are random blocks written directly in ggml's block layout
// (random quant bits, random sub-block scales, fp16 super-scales sized so the dequantized weights
// have the wanted standard deviation), which tests dequantization without needing quantizers.
// Scales are chosen so greedy runs are varied and the top-1/top-2 logit gap is usually large
// (see DEFAULT_SCALES), which keeps token-level parity meaningful despite rounding differences.
//
// Dimension legend: n_vocab tokens, n_embd model width, n_ff FFN width, n_head query heads,
// n_head_kv key/value heads, head_dim = n_embd / n_head, n_rot = head_dim (rotated dims).

import {
    GGML_TYPE, GGML_BLOCK, encodeFloats, f32, f32ToF16Bits, str, u32, writeGguf,
} from '../../../bindings/js/convert/gguf-writer.js';
import { minimalLlamaVocab } from '../../../bindings/js/convert/llama2c.js';

/** Weight types a random model can use ('Q4_K_M' is a mix, see tensorType). */
export const WEIGHT_TYPES = Object.freeze([
    'F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1',
    'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'Q4_K_M',
]);

/**
 * llama_ftype recorded in general.file_type (informational for llama.cpp).
 * @type {Record<string, number>}
 */
const FILE_TYPE = {
    F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K: 12,
    Q4_K: 14, Q5_K: 16, Q6_K: 18, BF16: 32, Q4_K_M: 15,
};

/**
 * Weight scales, as gains over 1/sqrt(fan_in) unless said otherwise. Tuned with llama.cpp so that
 * 64-token greedy runs of 2-layer models are varied and top-1/top-2 gaps are mostly > 1
 * (tests/js/reference.test.js prints the statistics).
 */
export const DEFAULT_SCALES = Object.freeze({
    embd: 0.5,      // token_embd std (absolute); with a tied head this also sets the logit scale
    qk: 1.6,        // attn_q / attn_k: attention score std ≈ qk²
    v: 1.0,         // attn_v
    o: 3.0,         // attn_output: layer outputs outweigh the embedding, so history matters
    gateUp: 1.4,    // ffn_gate / ffn_up
    down: 3.0,      // ffn_down
    out: 8.0,       // output.weight (untied): logit std ≈ out · output_norm rms ≈ 8
    normSpread: 0.25, // norm weights: 1 + normSpread · N(0,1)
});

/**
 * @typedef {object} RandomModelOptions
 * @property {number} [n_vocab]   default 512 (>= 259 so the byte tokens fit)
 * @property {number} [n_embd]    default 256 (multiple of 256 for K-quants, of 32 otherwise)
 * @property {number} [n_layer]   default 2
 * @property {number} [n_head]    default 4
 * @property {number} [n_head_kv] default n_head
 * @property {number} [n_ff]      default 512 (multiple of 256 for K-quants)
 * @property {number} [n_ctx]     llama.context_length, default 256
 * @property {boolean} [tied]     no output.weight: the head reuses token_embd (default false)
 * @property {string} [weightType] one of WEIGHT_TYPES (default 'F32'); norms are always F32
 * @property {string} [embdType]  type of token_embd (default: as the 2-D weights of weightType)
 * @property {number} [freqBase]  llama.rope.freq_base (default 10000)
 * @property {number} [ropeScaleLinear] write rope.scaling.type = "linear" with this factor
 * @property {boolean | number[]} [ropeFreqs] add rope_freqs.weight [n_rot/2] (true: Llama-3-like
 *   random factors ramping from 1 to 8)
 * @property {number} [normEps]   default 1e-5
 * @property {number} [seed]      default 1
 * @property {Partial<typeof DEFAULT_SCALES>} [scales]
 * @property {string} [name]      general.name
 */

// ---- seeded randomness ---------------------------------------------------------------------------

/**
 * Small seeded generator (sfc32) with uniform, integer and normal draws.
 * @param {number} seed
 */
export function makeRng(seed) {
    let a = 0x9e3779b9 ^ seed, b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b), c = 0xb7e15162, d = 1;
    const next = () => {
        a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
        const t = (a + b + d) >>> 0;
        d = (d + 1) >>> 0;
        a = b ^ (b >>> 9);
        b = (c + (c << 3)) >>> 0;
        c = (c << 21) | (c >>> 11);
        c = (c + t) >>> 0;
        return t;
    };
    for (let i = 0; i < 15; i++) next();
    let spare = NaN;
    return {
        /** @returns {number} uint32 */
        u32: next,
        /** @returns {number} in [0, 1) */
        uniform: () => next() / 4294967296,
        /** @returns {number} standard normal (Box-Muller) */
        normal() {
            if (!Number.isNaN(spare)) { const s = spare; spare = NaN; return s; }
            const u = (next() + 1) / 4294967297, v = next() / 4294967296;
            const r = Math.sqrt(-2 * Math.log(u));
            spare = r * Math.sin(2 * Math.PI * v);
            return r * Math.cos(2 * Math.PI * v);
        },
        /** @param {Uint8Array} out */
        fill(out) {
            for (let i = 0; i < out.length; i += 4) {
                const x = next();
                out[i] = x & 0xff;
                if (i + 1 < out.length) out[i + 1] = (x >>> 8) & 0xff;
                if (i + 2 < out.length) out[i + 2] = (x >>> 16) & 0xff;
                if (i + 3 < out.length) out[i + 3] = x >>> 24;
            }
        },
    };
}

/** @param {string} s @returns {number} FNV-1a hash, for per-tensor seeds */
function hash(s) {
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return h >>> 0;
}

// ---- random quantized blocks -----------------------------------------------------------------------

/**
 * Per type: rms of the dequantized values per unit of the fp16 super-scale d, given uniformly random
 * quant bits and sub-block scales and the mins chosen by writeRandomBlock (from the formulas of
 * ggml's dequantize_row_*). d itself is multiplied per block by u ~ U[0.8, 1.2) and a random sign,
 * so a kernel that reads another block's scale, or drops the sign, is caught. (A wider spread makes
 * whole rows of 256 = one K-quant super-block much larger than others: with a tied head those
 * tokens become attractors and greedy runs repeat one token.)
 */
/** @type {Record<string, number>} */
const RMS_PER_D = {
    Q8_0: 73.9,   // q int8 uniform: E[q²] = 5461.5
    Q4_0: 4.637,  // q-8 in [-8, 7]: E = 21.5
    Q4_1: 4.752,  // q in [0,15], m = d·(-7.5 + U(-2,2)): 21.25 + 4/3
    Q5_0: 9.247,  // q-16 in [-16, 15]: E = 85.5
    Q5_1: 9.518,  // q in [0,31], m = d·(-15.5 + U(-4,4)): 85.25 + 16/3
    Q2_K: 13.13,  // sc in [8,15], q in [0,3], mins centre each sub-block: 137.5 · 1.25 + rounding
    Q3_K: 56.16,  // s = sc-32, |s| in [16,31]; q-4·!h in [-4,3]: 573.5 · 5.5
    Q4_K: 223.1,  // sc in [32,63], q in [0,15], centred: 2341.5 · 21.25 + rounding
    Q5_K: 446.8,  // sc in [32,63], q in [0,31], centred: 2341.5 · 85.25 + rounding
    Q6_K: 1797.5, // s int8, |s| in [64,127]; q-32 in [-32,31]: 9461.5 · 341.5
};

// Sub-block scales are drawn from the upper half of their range (all low bits random, and the
// top bit random where it is a sign): with scales from 0 up, rows of one 256-value super-block vary
// in norm by ~30% and, with a tied head, the large-norm tokens become attractors.

const U_SPREAD = 0.2;
const U_RMS = Math.sqrt(1 + (U_SPREAD * U_SPREAD) / 3); // E[u²] for u ~ U[1-s, 1+s)

/**
 * K-quant sub-block mins: dmin = r·d with r random per super-block (r > the mean quant, so
 * m = round(sc·mean_q / r) < sc differs from sc and a scale/min swap is caught), which centres each
 * sub-block near zero instead of leaving a large per-sub-block offset (that offset makes the
 * weights nearly low-rank and the random model's output dull).
 * @param {number[]} sc sub-block scales @param {number} meanQ @param {number} r
 * @returns {number[]} mins
 */
const centredMins = (sc, meanQ, r) => sc.map((x) => Math.round((x * meanQ) / r));

/**
 * Packs 8 six-bit scales and mins into ggml's 12-byte K_SCALE layout (inverse of get_scale_min_k4:
 * j < 4 in the low 6 bits of bytes j / j+4; j >= 4 as nibbles of byte j+4 plus 2 high bits in the
 * top of bytes j-4 / j).
 * @param {Uint8Array} q 12 bytes @param {number[]} sc @param {number[]} m
 */
function packScaleMinK4(q, sc, m) {
    q.fill(0);
    for (let j = 0; j < 8; j++) {
        if (j < 4) {
            q[j] |= sc[j] & 63;
            q[j + 4] |= m[j] & 63;
        } else {
            q[j + 4] = (sc[j] & 0xf) | ((m[j] & 0xf) << 4);
            q[j - 4] |= (sc[j] >> 4) << 6;
            q[j] |= (m[j] >> 4) << 6;
        }
    }
}

/**
 * Packs 16 six-bit Q3_K scales (stored value = scale + 32) into 12 bytes: the low nibble of scale j
 * goes to byte j % 8 (high nibble of it when j >= 8), its top 2 bits to byte 8 + j % 4 at bit
 * 2·floor(j / 4) (inverse of the aux[] shuffle in ggml's dequantize_row_q3_K).
 * @param {Uint8Array} q 12 bytes @param {number[]} sc values in [0, 63]
 */
function packScalesQ3K(q, sc) {
    q.fill(0);
    for (let j = 0; j < 16; j++) {
        q[j % 8] |= (sc[j] & 0xf) << (j >= 8 ? 4 : 0);
        q[8 + (j % 4)] |= (sc[j] >> 4) << (2 * Math.floor(j / 4));
    }
}

/**
 * Writes one random block of `name` at `o` whose dequantized values have rms ≈ `std`.
 * @param {string} name @param {DataView} dv @param {Uint8Array} bytes @param {number} o
 * @param {number} std @param {ReturnType<typeof makeRng>} rng
 */
function writeRandomBlock(name, dv, bytes, o, std, rng) {
    const size = GGML_BLOCK[GGML_TYPE[name]].size;
    rng.fill(bytes.subarray(o, o + size)); // every quant, scale and high-bit field random
    const sign = rng.u32() & 1 ? -1 : 1;
    const u = 1 - U_SPREAD + 2 * U_SPREAD * rng.uniform();
    const d = (sign * std * u) / (RMS_PER_D[name] * U_RMS);
    /** @param {number} at @param {number} x */
    const half = (at, x) => dv.setUint16(o + at, f32ToF16Bits(x), true);
    /** @param {number} n @param {number} max */
    const randInts = (n, max) => Array.from({ length: n }, () => rng.u32() % (max + 1));
    switch (name) {
        case 'Q8_0': case 'Q4_0': case 'Q5_0': half(0, d); break;
        case 'Q4_1': half(0, d); half(2, d * (-7.5 + 4 * (rng.uniform() - 0.5))); break;
        case 'Q5_1': half(0, d); half(2, d * (-15.5 + 8 * (rng.uniform() - 0.5))); break;
        case 'Q2_K': { // scales[16] (low nibble scale, high nibble min) qs[64] d dmin
            const r = 1.6 + 1.4 * rng.uniform();
            const sc = randInts(16, 7).map((x) => 8 + x);
            const m = centredMins(sc, 1.5, r);
            for (let j = 0; j < 16; j++) bytes[o + j] = sc[j] | (m[j] << 4);
            half(80, d); half(82, r * d);
            break;
        }
        case 'Q3_K': { // hmask[32] qs[64] scales[12] d
            const sc = randInts(16, 15).map((x) => 32 + (rng.u32() & 1 ? -(16 + x) : 16 + x));
            packScalesQ3K(bytes.subarray(o + 96, o + 108), sc);
            half(108, d);
            break;
        }
        case 'Q4_K': case 'Q5_K': { // d dmin scales[12] (qh[32]) qs[128]
            const meanQ = name === 'Q4_K' ? 7.5 : 15.5;
            const r = meanQ * (16 / 15 + rng.uniform()); // (1.07..2.07)·meanQ: m ≈ 0.5..0.94·sc
            const sc = randInts(8, 31).map((x) => 32 + x);
            packScaleMinK4(bytes.subarray(o + 4, o + 16), sc, centredMins(sc, meanQ, r));
            half(0, d); half(2, r * d);
            break;
        }
        case 'Q6_K': // ql[128] qh[64] scales[16] (int8) d
            for (let j = 0; j < 16; j++) {
                const mag = 64 + (rng.u32() % 64);
                bytes[o + 192 + j] = (rng.u32() & 1 ? -mag : mag) & 0xff;
            }
            half(208, d);
            break;
        default: throw new TypeError(`random block: unsupported type ${name}`);
    }
}

/**
 * Random tensor payload of ggml type `typeName` with `n` values of rms ≈ `std`: Gaussian for float
 * types, random blocks for quantized ones.
 * @param {string} typeName F32, F16, BF16 or a key of RMS_PER_D
 * @param {number} n values (row length must be a multiple of the block size; the caller checks dims)
 * @param {number} std
 * @param {ReturnType<typeof makeRng>} rng
 * @returns {Uint8Array}
 */
export function randomTensorBytes(typeName, n, std, rng) {
    const type = GGML_TYPE[typeName];
    if (type === undefined) throw new TypeError(`unknown type ${typeName}`);
    if (type === GGML_TYPE.F32 || type === GGML_TYPE.F16 || type === GGML_TYPE.BF16) {
        const v = new Float32Array(n);
        for (let i = 0; i < n; i++) v[i] = std * rng.normal();
        return encodeFloats(v, type);
    }
    const { blck, size } = GGML_BLOCK[type];
    if (n % blck) throw new RangeError(`${typeName}: ${n} values is not whole blocks of ${blck}`);
    const out = new Uint8Array((n / blck) * size);
    const dv = new DataView(out.buffer);
    for (let o = 0; o < out.length; o += size) writeRandomBlock(typeName, dv, out, o, std, rng);
    return out;
}

// ---- model -------------------------------------------------------------------------------------------

/**
 * Storage type of a 2-D tensor given the model weight type ('Q4_K_M': Q6_K for attn_v, ffn_down and
 * output, Q4_K elsewhere, like llama.cpp's Q4_K_M recipe in spirit).
 * @param {string} weightType @param {string} role tensor base name, e.g. 'attn_v' or 'output'
 * @returns {string}
 */
export function tensorType(weightType, role) {
    if (weightType !== 'Q4_K_M') return weightType;
    return role === 'attn_v' || role === 'ffn_down' || role === 'output' ? 'Q6_K' : 'Q4_K';
}

/**
 * Builds the GGUF content of a random llama model.
 * @param {RandomModelOptions} [o]
 * @returns {{content: import('../../../bindings/js/convert/gguf-writer.js').GgufContent,
 *   config: {n_vocab: number, n_embd: number, n_layer: number, n_head: number, n_head_kv: number,
 *     n_ff: number, n_ctx: number, tied: boolean, weightType: string, seed: number}}}
 */
export function randomLlamaContent(o = {}) {
    const n_vocab = o.n_vocab ?? 512, n_embd = o.n_embd ?? 256, n_layer = o.n_layer ?? 2;
    const n_head = o.n_head ?? 4, n_head_kv = o.n_head_kv ?? n_head, n_ff = o.n_ff ?? 512;
    const n_ctx = o.n_ctx ?? 256, tied = o.tied ?? false, weightType = o.weightType ?? 'F32';
    const seed = o.seed ?? 1;
    const s = { ...DEFAULT_SCALES, ...(o.scales ?? {}) };
    if (!WEIGHT_TYPES.includes(weightType)) throw new TypeError(`unknown weightType ${weightType}`);
    if (n_embd % n_head || n_head % n_head_kv) throw new RangeError('n_embd % n_head or n_head % n_head_kv');
    const head_dim = n_embd / n_head;
    const n_embd_kv = head_dim * n_head_kv;
    const n_rot = head_dim;
    const embdType = o.embdType ?? tensorType(weightType, 'token_embd');

    /** @type {import('../../../bindings/js/convert/gguf-writer.js').GgufTensor[]} */
    const tensors = [];
    /**
     * @param {string} name @param {string} type @param {number[]} dims ne (innermost first)
     * @param {number} std
     */
    const weight = (name, type, dims, std) => {
        const n = dims.reduce((a, b) => a * b, 1);
        tensors.push({
            name, type: GGML_TYPE[type], dims,
            data: () => randomTensorBytes(type, n, std, makeRng(seed ^ hash(name))),
        });
    };
    /** @param {string} name @param {number} n @param {boolean} [signs] random sign per weight */
    const norm = (name, n, signs = false) => {
        const rng = makeRng(seed ^ hash(name));
        const v = new Float32Array(n);
        for (let i = 0; i < n; i++) {
            v[i] = 1 + s.normSpread * rng.normal();
            if (signs && rng.u32() & 1) v[i] = -v[i];
        }
        tensors.push({ name, type: GGML_TYPE.F32, dims: [n], data: encodeFloats(v) });
    };
    const inv = (/** @type {number} */ fanIn) => 1 / Math.sqrt(fanIn);

    weight('token_embd.weight', embdType, [n_embd, n_vocab], s.embd);
    // Tied head: logit_j = (h / rms(h) ⊙ w) · e_j, and h contains e_cur, so with positive w the
    // current token scores Σ e_cur,i² w_i extra and greedy runs lock onto one token. Random signs on
    // the output norm cancel that self-similarity in expectation.
    norm('output_norm.weight', n_embd, tied);
    if (!tied) weight('output.weight', tensorType(weightType, 'output'), [n_embd, n_vocab], s.out * inv(n_embd));
    if (o.ropeFreqs) {
        const factors = Array.isArray(o.ropeFreqs)
            ? Float32Array.from(o.ropeFreqs)
            : llama3Factors(n_rot / 2, seed);
        if (factors.length !== n_rot / 2) throw new RangeError(`ropeFreqs needs ${n_rot / 2} factors`);
        tensors.push({
            name: 'rope_freqs.weight', type: GGML_TYPE.F32, dims: [n_rot / 2], data: encodeFloats(factors),
        });
    }
    for (let l = 0; l < n_layer; l++) {
        const b = `blk.${l}`;
        const t = (/** @type {string} */ role) => tensorType(weightType, role);
        norm(`${b}.attn_norm.weight`, n_embd);
        weight(`${b}.attn_q.weight`, t('attn_q'), [n_embd, n_embd], s.qk * inv(n_embd));
        weight(`${b}.attn_k.weight`, t('attn_k'), [n_embd, n_embd_kv], s.qk * inv(n_embd));
        weight(`${b}.attn_v.weight`, t('attn_v'), [n_embd, n_embd_kv], s.v * inv(n_embd));
        weight(`${b}.attn_output.weight`, t('attn_output'), [n_embd, n_embd], s.o * inv(n_embd));
        norm(`${b}.ffn_norm.weight`, n_embd);
        weight(`${b}.ffn_gate.weight`, t('ffn_gate'), [n_embd, n_ff], s.gateUp * inv(n_embd));
        weight(`${b}.ffn_down.weight`, t('ffn_down'), [n_ff, n_embd], s.down * inv(n_ff));
        weight(`${b}.ffn_up.weight`, t('ffn_up'), [n_embd, n_ff], s.gateUp * inv(n_embd));
    }

    /** @type {Array<[string, any]>} */
    const metadata = [
        ['general.architecture', 'llama'],
        ['general.name', o.name ?? `random-${weightType}-${seed}`],
        ['general.file_type', u32(FILE_TYPE[weightType])],
        ['llama.context_length', u32(n_ctx)],
        ['llama.embedding_length', u32(n_embd)],
        ['llama.block_count', u32(n_layer)],
        ['llama.feed_forward_length', u32(n_ff)],
        ['llama.attention.head_count', u32(n_head)],
        ['llama.attention.head_count_kv', u32(n_head_kv)],
        ['llama.rope.dimension_count', u32(n_rot)],
        ['llama.attention.layer_norm_rms_epsilon', f32(o.normEps ?? 1e-5)],
        ['llama.rope.freq_base', f32(o.freqBase ?? 10000)],
        ['llama.vocab_size', u32(n_vocab)],
    ];
    if (o.ropeScaleLinear !== undefined) {
        metadata.push(['llama.rope.scaling.type', str('linear')]);
        metadata.push(['llama.rope.scaling.factor', f32(o.ropeScaleLinear)]);
    }
    metadata.push(...minimalLlamaVocab(n_vocab));
    return {
        content: { metadata, tensors },
        config: { n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx, tied, weightType, seed },
    };
}

/**
 * Llama-3-like RoPE frequency factors: 1 for the fast dimensions, ramping to 8 for the slow ones,
 * with ±10% random jitter so that a kernel applying them to the wrong pair is caught.
 * @param {number} n n_rot / 2 @param {number} seed @returns {Float32Array}
 */
function llama3Factors(n, seed) {
    const rng = makeRng(seed ^ 0x5eed);
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) {
        const t = Math.min(1, Math.max(0, (i / n - 0.25) / 0.5));
        f[i] = (1 + 7 * t) * (0.9 + 0.2 * rng.uniform());
    }
    return f;
}

/**
 * Writes a random llama model to `path` (atomically) and returns its configuration.
 * @param {string} path
 * @param {RandomModelOptions} [opts]
 */
export async function writeRandomLlama(path, opts = {}) {
    const { content, config } = randomLlamaContent(opts);
    const { bytes } = await writeGguf(path, content);
    return { path, bytes, config };
}
