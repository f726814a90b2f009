// Random GGUF models for parity tests against llama.cpp, in the architectures SmallMind runs:
// `llama` (also Llama 3.x, SmolLM2, TinyLlama), `qwen2` (Qwen2/2.5), `qwen3`, `phi3` (Phi-3/3.5) and
// `gemma2` (Gemma 2). Weights are random, but tensor names, shapes, metadata keys and their defaults
// are those of real GGUF files of each family as llama.cpp's converter writes them and its loader
// reads them (llama.cpp src/models/{llama,qwen2,qwen3,phi3,gemma2}.cpp, src/llama-arch.cpp,
// conversion/{qwen,phi,gemma,base}.py), so a loader or kernel that handles these files handles the
// real ones. REAL_SHAPES lists the published shapes of the checkpoints people run in browsers and
// scaledShape() shrinks one for fast tests while keeping head_dim, the GQA ratio and every feature.
// Covered: every weight type we support, tied or untied output, GQA, RoPE variants (freq_base,
// linear scaling, Llama-3 `rope_freqs.weight`, Phi-3 LongRoPE factors + attention factor), Q/K/V
// biases (qwen2), per-head Q/K RMS norms and head_dim != n_embd / n_head (qwen3, gemma2), fused QKV
// and gate|up (phi3), post-norms, GeGLU, embedding scaling, logit soft-capping and sliding-window
// attention (gemma2), GPT-2 byte-level BPE vocabularies with merges (qwen2/qwen3, optionally llama).
// Not a quantizer: quantized tensors are random blocks written directly in ggml's block layout
// (random quant bits, random sub-block scales, fp16 super-scales sized so the dequantized weights
// have the wanted standard deviation), which tests dequantization without needing quantizers.
// Scales are chosen so greedy runs are varied and the top-1/top-2 logit gap is usually large
// (see DEFAULT_SCALES and ARCH_SCALES), which keeps token-level parity meaningful despite rounding
// differences.
//
// Dimension legend: n_vocab tokens, n_embd model width, n_ff FFN width, n_head query heads,
// n_head_kv key/value heads, head_dim per head (n_embd / n_head unless the family sets
// attention.key_length), n_rot = head_dim (rotated dims).

import {
    GGML_TYPE, GGML_BLOCK, GGUF_TYPE, arr, encodeFloats, f32, f32ToF16Bits, str, u32, writeGguf,
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
    // used by other architectures only (see ARCH_SCALES):
    bias: 0.25,     // qwen2 attn_q/k/v.bias std (absolute); 0.5 makes runs repetitive (a constant V bias)
    qkNorm: 1.6,    // qwen3 attn_q_norm / attn_k_norm gain: attention score std ≈ qkNorm²
    outNorm: 1.0,   // output_norm gain (gemma2: with the tied head it sets the logit scale)
    postNorm: 1.0,  // gemma2 post_attention_norm / post_ffw_norm gain: size of each block's update
});

/**
 * @typedef {object} RandomModelOptions
 * @property {string} [arch]      one of ARCHS (default 'llama'): tensors, keys and defaults of that family
 * @property {number} [n_vocab]   default 512 (>= 259 so the byte tokens fit)
 * @property {number} [n_embd]    default 256 (multiple of 256 for K-quants, of 32 otherwise)
 * @property {number} [n_layer]   default 2
 * @property {number} [n_head]    default 4
 * @property {number} [n_head_kv] default n_head
 * @property {number} [head_dim]  qwen3/gemma2 (attention.key_length = value_length): default
 *   n_embd / n_head; other architectures derive it and reject a different value
 * @property {number} [n_ff]      default 512 (multiple of 256 for K-quants)
 * @property {number} [n_ctx]     {arch}.context_length, default 256 (phi3: 131072, as Phi-3.5)
 * @property {boolean} [tied]     no output.weight: the head reuses token_embd (default false;
 *   qwen2/qwen3 true, as their small checkpoints; gemma2 always)
 * @property {string} [weightType] one of WEIGHT_TYPES (default 'F32'); norms, biases and RoPE
 *   factors are always F32
 * @property {string} [embdType]  type of token_embd (default: as the 2-D weights of weightType; for
 *   a tied head of a non-llama architecture, as output.weight, like llama.cpp's quantizer)
 * @property {boolean} [kFallback] a K-quant tensor whose rows are not a multiple of 256 gets
 *   llama.cpp's fallback type (Q4_K→Q5_0, Q5_K→Q5_1, Q6_K→Q8_0, Q2_K/Q3_K→Q4_0) instead of an
 *   error, as in real Q4_K_M files of Qwen2.5-0.5B (n_embd 896) or SmolLM2 (576, 960)
 * @property {number} [freqBase]  {arch}.rope.freq_base (default 10000, not written for gemma2)
 * @property {number} [ropeScaleLinear] write rope.scaling.type = "linear" with this factor
 * @property {boolean | number[]} [ropeFreqs] llama: add rope_freqs.weight [n_rot/2] (true:
 *   Llama-3-like random factors ramping from 1 to 8)
 * @property {number} [normEps]   default 1e-5 (qwen2/qwen3/gemma2: 1e-6)
 * @property {boolean} [qkvBias]  qwen2: attn_q/k/v.bias (default true, as every Qwen2 checkpoint)
 * @property {boolean} [ropeFactors] phi3: LongRoPE rope_factors_long/short.weight [n_rot/2] and
 *   rope.scaling.attn_factor (default true, as Phi-3.5-mini / Phi-3-*-128k)
 * @property {number} [n_ctx_orig] phi3: rope.scaling.original_context_length (default 4096); llama.cpp
 *   uses the long factors when the context size exceeds it, the short ones otherwise
 * @property {number} [ropeAttnFactor] phi3: rope.scaling.attn_factor (default: the converter's
 *   sqrt(1 + ln(n_ctx / n_ctx_orig) / ln(n_ctx_orig)), 1.1902 for Phi-3.5)
 * @property {number} [slidingWindow] gemma2: attention.sliding_window (default 4096; used by every
 *   other layer, starting with layer 0); phi3: written (default 262144, as Phi-3.5) but llama.cpp
 *   ignores it
 * @property {number} [attnSoftcap]  gemma2: attn_logit_softcapping (default 50)
 * @property {number} [finalSoftcap] gemma2: final_logit_softcapping (default 30)
 * @property {'spm' | 'gpt2'} [vocab] tokenizer kind (default: gpt2 for qwen2/qwen3, spm otherwise)
 * @property {string} [tokenizerPre] gpt2 vocab: tokenizer.ggml.pre ('qwen2', 'llama-bpe', 'smollm';
 *   default 'qwen2' for qwen2/qwen3, 'llama-bpe' for llama)
 * @property {number} [seed]      default 1
 * @property {Partial<typeof DEFAULT_SCALES>} [scales] over ARCH_SCALES[arch] over DEFAULT_SCALES
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

/** Architectures a random model can have (general.architecture). */
export const ARCHS = Object.freeze(['llama', 'qwen2', 'qwen3', 'phi3', 'gemma2']);

/**
 * Per-architecture scales over DEFAULT_SCALES, tuned with llama.cpp like the llama ones (64-step
 * greedy runs of 2-layer scaled REAL_SHAPES models: varied, top-1/top-2 gaps mostly > 1; the
 * statistics are in tests/js/arch-parity.test.js's header).
 * - gemma2 scales the embedding by sqrt(n_embd) and normalizes every block's output (post-norms),
 *   so `embd` is the rms of the scaled input embedding (token_embd std = embd / sqrt(n_embd)), the
 *   block updates' size is set by the post-norm gain, and with the always-tied head the logit
 *   scale is outNorm · embd (before the final soft-cap).
 * @type {Readonly<Record<string, Partial<typeof DEFAULT_SCALES>>>}
 */
export const ARCH_SCALES = Object.freeze({
    llama: Object.freeze({}),
    qwen2: Object.freeze({}),
    qwen3: Object.freeze({}),
    phi3: Object.freeze({}),
    gemma2: Object.freeze({ embd: 1.0, outNorm: 8.0, postNorm: 2.0 }),
});

/**
 * Storage type of a 2-D tensor given the model weight type ('Q4_K_M': Q6_K for attn_v, attn_qkv,
 * ffn_down and output, Q4_K elsewhere, like llama.cpp's Q4_K_M recipe in spirit).
 * @param {string} weightType @param {string} role tensor base name, e.g. 'attn_v' or 'output'
 * @returns {string}
 */
export function tensorType(weightType, role) {
    if (weightType !== 'Q4_K_M') return weightType;
    return role === 'attn_v' || role === 'attn_qkv' || role === 'ffn_down' || role === 'output' ? 'Q6_K' : 'Q4_K';
}

/** llama.cpp's quantizer fallback for K-quant tensors whose rows are not whole super-blocks. */
const K_FALLBACK = Object.freeze({ Q2_K: 'Q4_0', Q3_K: 'Q4_0', Q4_K: 'Q5_0', Q5_K: 'Q5_1', Q6_K: 'Q8_0' });

/**
 * The type llama.cpp's quantizer stores a tensor of `type` with rows of `rowLen` values in
 * (llama-quant.cpp tensor_type_fallback): K-quants need rows of whole 256-value super-blocks.
 * @param {string} type @param {number} rowLen @returns {string}
 */
export function fallbackType(type, rowLen) {
    const fb = /** @type {Record<string, string>} */ (K_FALLBACK)[type];
    if (!fb || rowLen % 256 === 0) return type;
    return rowLen % 32 === 0 ? fb : 'F16';
}

/**
 * Published shapes of the small checkpoints people run in browsers, from each model's config.json
 * on Hugging Face (hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
 * head_dim, intermediate_size, vocab_size, max_position_embeddings, rope_theta, rope_scaling,
 * rms_norm_eps, tie_word_embeddings, sliding_window, *_softcapping), with the GGUF architecture and
 * tokenizer llama.cpp's converter gives them:
 *   https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/config.json
 *   https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/config.json
 *   https://huggingface.co/Qwen/Qwen3-0.6B/blob/main/config.json
 *   https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct/blob/main/config.json
 *   https://huggingface.co/meta-llama/Llama-3.2-3B-Instruct/blob/main/config.json
 *   https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct/blob/main/config.json
 *   https://huggingface.co/HuggingFaceTB/SmolLM2-360M-Instruct/blob/main/config.json
 *   https://huggingface.co/HuggingFaceTB/SmolLM2-1.7B-Instruct/blob/main/config.json
 *   https://huggingface.co/TinyLlama/TinyLlama-1.1B-Chat-v1.0/blob/main/config.json
 *   https://huggingface.co/microsoft/Phi-3.5-mini-instruct/blob/main/config.json
 *   https://huggingface.co/google/gemma-2-2b-it/blob/main/config.json
 * Notes: n_ctx is max_position_embeddings (the GGUF context_length). Llama 3.2's rope_scaling
 * (llama3: factor 32, low_freq_factor 1, high_freq_factor 4, original 8192) becomes
 * rope_freqs.weight in GGUF (ropeFreqs). Phi-3.5's longrope (original 4096) becomes
 * rope_factors_long/short.weight and rope.scaling.attn_factor = sqrt(1 + ln 32 / ln 4096) (ropeFactors);
 * its sliding_window 262144 is written but ignored by llama.cpp. Gemma 2's query_pre_attn_scalar
 * is 256 = head_dim, which is the attention scale llama.cpp uses for the 2B.
 */
export const REAL_SHAPES = Object.freeze({
    'Qwen2.5-0.5B-Instruct': {
        arch: 'qwen2', n_embd: 896, n_layer: 24, n_head: 14, n_head_kv: 2, head_dim: 64, n_ff: 4864,
        n_vocab: 151936, n_ctx: 32768, freqBase: 1000000, normEps: 1e-6, tied: true, vocab: 'gpt2', tokenizerPre: 'qwen2',
    },
    'Qwen2.5-1.5B-Instruct': {
        arch: 'qwen2', n_embd: 1536, n_layer: 28, n_head: 12, n_head_kv: 2, head_dim: 128, n_ff: 8960,
        n_vocab: 151936, n_ctx: 32768, freqBase: 1000000, normEps: 1e-6, tied: true, vocab: 'gpt2', tokenizerPre: 'qwen2',
    },
    'Qwen3-0.6B': {
        arch: 'qwen3', n_embd: 1024, n_layer: 28, n_head: 16, n_head_kv: 8, head_dim: 128, n_ff: 3072,
        n_vocab: 151936, n_ctx: 40960, freqBase: 1000000, normEps: 1e-6, tied: true, vocab: 'gpt2', tokenizerPre: 'qwen2',
    },
    'Llama-3.2-1B-Instruct': {
        arch: 'llama', n_embd: 2048, n_layer: 16, n_head: 32, n_head_kv: 8, head_dim: 64, n_ff: 8192,
        n_vocab: 128256, n_ctx: 131072, freqBase: 500000, normEps: 1e-5, tied: true, ropeFreqs: true,
        vocab: 'gpt2', tokenizerPre: 'llama-bpe',
    },
    'Llama-3.2-3B-Instruct': {
        arch: 'llama', n_embd: 3072, n_layer: 28, n_head: 24, n_head_kv: 8, head_dim: 128, n_ff: 8192,
        n_vocab: 128256, n_ctx: 131072, freqBase: 500000, normEps: 1e-5, tied: true, ropeFreqs: true,
        vocab: 'gpt2', tokenizerPre: 'llama-bpe',
    },
    'SmolLM2-135M-Instruct': {
        arch: 'llama', n_embd: 576, n_layer: 30, n_head: 9, n_head_kv: 3, head_dim: 64, n_ff: 1536,
        n_vocab: 49152, n_ctx: 8192, freqBase: 100000, normEps: 1e-5, tied: true, vocab: 'gpt2', tokenizerPre: 'smollm',
    },
    'SmolLM2-360M-Instruct': {
        arch: 'llama', n_embd: 960, n_layer: 32, n_head: 15, n_head_kv: 5, head_dim: 64, n_ff: 2560,
        n_vocab: 49152, n_ctx: 8192, freqBase: 100000, normEps: 1e-5, tied: true, vocab: 'gpt2', tokenizerPre: 'smollm',
    },
    'SmolLM2-1.7B-Instruct': {
        arch: 'llama', n_embd: 2048, n_layer: 24, n_head: 32, n_head_kv: 32, head_dim: 64, n_ff: 8192,
        n_vocab: 49152, n_ctx: 8192, freqBase: 130000, normEps: 1e-5, tied: true, vocab: 'gpt2', tokenizerPre: 'smollm',
    },
    'TinyLlama-1.1B-Chat-v1.0': {
        arch: 'llama', n_embd: 2048, n_layer: 22, n_head: 32, n_head_kv: 4, head_dim: 64, n_ff: 5632,
        n_vocab: 32000, n_ctx: 2048, freqBase: 10000, normEps: 1e-5, tied: false, vocab: 'spm',
    },
    'Phi-3.5-mini-instruct': {
        arch: 'phi3', n_embd: 3072, n_layer: 32, n_head: 32, n_head_kv: 32, head_dim: 96, n_ff: 8192,
        n_vocab: 32064, n_ctx: 131072, n_ctx_orig: 4096, freqBase: 10000, normEps: 1e-5, tied: false,
        ropeFactors: true, slidingWindow: 262144, vocab: 'spm',
    },
    'gemma-2-2b-it': {
        arch: 'gemma2', n_embd: 2304, n_layer: 26, n_head: 8, n_head_kv: 4, head_dim: 256, n_ff: 9216,
        n_vocab: 256000, n_ctx: 8192, normEps: 1e-6, tied: true, // rope_theta 10000: llama.cpp's default, not written
        attnSoftcap: 50, finalSoftcap: 30, slidingWindow: 4096, vocab: 'spm',
    },
});

/**
 * A real checkpoint's shape shrunk for fast tests: fewer layers, a small vocabulary and FFN, fewer
 * heads; but the same head_dim and GQA ratio (n_head / n_head_kv), and the same "alignment class":
 * n_embd (and the query width n_head·head_dim) is a multiple of 256 exactly when the real one is
 * (Qwen2.5-0.5B's 896 and SmolLM2's 576/960 are not, so their K-quant files hold fallback types),
 * and differs from the query width exactly when the real one does (gemma2: 2304 vs 2048; qwen3:
 * 1024 vs 2048). Every other option (architecture, RoPE, biases, soft-caps, sliding window, tied
 * head, vocabulary kind) is kept. The fewest KV heads that satisfy this are used.
 * @param {keyof typeof REAL_SHAPES | RandomModelOptions} real a REAL_SHAPES name or entry
 * @param {{n_layer?: number, n_vocab?: number, maxFf?: number}} [o] defaults 2 layers, 512 tokens,
 *   n_ff at most 1536
 * @returns {RandomModelOptions} (with kFallback: true, as llama.cpp's quantizer)
 */
export function scaledShape(real, o = {}) {
    const r = typeof real === 'string' ? /** @type {any} */ (REAL_SHAPES)[real] : real;
    if (!r) throw new TypeError(`scaledShape: unknown checkpoint ${real}`);
    const hd = r.head_dim ?? r.n_embd / r.n_head;
    const ratio = r.n_head / r.n_head_kv;
    const qReal = r.n_head * hd;
    const is256 = (/** @type {number} */ x) => x % 256 === 0;
    const unit = is256(r.n_embd) ? 256 : 32;
    for (let kv = 1; kv <= r.n_head_kv; kv++) {
        const n_head = ratio * kv, q = n_head * hd;
        let n_embd = q;
        if (r.n_embd !== qReal) {
            n_embd = Math.max(unit, Math.round((q * r.n_embd) / qReal / unit) * unit);
            if (n_embd === q) n_embd += r.n_embd > qReal ? unit : -unit;
        }
        if (n_head < 2 || n_embd <= 0 || n_embd % 32 || is256(n_embd) !== is256(r.n_embd)) continue;
        if (is256(q) !== is256(qReal) || (n_embd === q) !== (r.n_embd === qReal)) continue;
        const ff = Math.round((n_embd * r.n_ff) / r.n_embd / 256) * 256;
        return {
            ...r, n_layer: o.n_layer ?? 2, n_vocab: o.n_vocab ?? 512, n_head, n_head_kv: kv, head_dim: hd,
            n_embd, n_ff: Math.min(o.maxFf ?? 1536, Math.max(256, ff)), kFallback: true,
        };
    }
    throw new RangeError(`scaledShape: no smaller shape keeps the features of ${JSON.stringify(real)}`);
}

// ---- vocabularies ------------------------------------------------------------------------------------

const TOKEN_NORMAL = 1, TOKEN_UNKNOWN = 2, TOKEN_CONTROL = 3, TOKEN_BYTE = 6;

/**
 * GPT-2's byte-to-unicode table in vocabulary order: the 256 single-byte tokens as GPT-2 / Qwen
 * vocabularies list them (printable bytes first as themselves, the others shifted to U+0100..).
 * @returns {string[]}
 */
function gpt2ByteTokens() {
    const bs = [];
    for (let b = 33; b <= 126; b++) bs.push(b);
    for (let b = 161; b <= 172; b++) bs.push(b);
    for (let b = 174; b <= 255; b++) bs.push(b);
    const cs = bs.slice();
    let n = 0;
    for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
    return cs.map((c) => String.fromCodePoint(c));
}

/**
 * Special tokens of GPT-2-style vocabularies per tokenizer.ggml.pre, and where they sit (Qwen and
 * Llama 3 put them after the merged tokens, SmolLM2 at ids 0-2); ids of bos/eos/pad index `tokens`.
 */
const GPT2_SPECIALS = Object.freeze({
    qwen2: { first: false, tokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], bos: 0, eos: 2, pad: 0, addBos: false },
    'llama-bpe': { first: false, tokens: ['<|begin_of_text|>', '<|end_of_text|>', '<|eot_id|>'], bos: 0, eos: 2, pad: -1, addBos: true },
    smollm: { first: true, tokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], bos: 1, eos: 2, pad: 2, addBos: false },
});

/**
 * A small byte-level BPE vocabulary llama.cpp and SmallMind both load: the 256 byte tokens, merged
 * tokens built from them (each with its merge: 'Ġ'/letter prefixes extended letter by letter, in
 * breadth-first order, so every merge names two existing tokens and makes a third), and the family's
 * special tokens.
 * @param {number} n_vocab @param {string} pre tokenizer.ggml.pre, a key of GPT2_SPECIALS
 * @returns {Array<[string, any]>}
 */
export function gpt2Vocab(n_vocab, pre) {
    const sp = /** @type {any} */ (GPT2_SPECIALS)[pre];
    if (!sp) throw new TypeError(`gpt2Vocab: no special tokens known for pre-tokenizer ${pre}`);
    const bytes = gpt2ByteTokens();
    const need = n_vocab - 256 - sp.tokens.length;
    if (need < 0) throw new RangeError(`gpt2Vocab: n_vocab ${n_vocab} < ${256 + sp.tokens.length}`);
    const letters = 'abcdefghijklmnopqrstuvwxyz'.split('');
    const seen = new Set(bytes), merged = [], merges = [], queue = ['Ġ', ...letters];
    for (let qi = 0; merged.length < need; qi++) {
        for (const c of letters) {
            if (merged.length >= need) break;
            const t = queue[qi] + c;
            if (seen.has(t)) continue;
            seen.add(t);
            merged.push(t);
            merges.push(`${queue[qi]} ${c}`);
            queue.push(t);
        }
    }
    const body = [...bytes, ...merged];
    const tokens = sp.first ? [...sp.tokens, ...body] : [...body, ...sp.tokens];
    const base = sp.first ? 0 : body.length;
    const types = new Int32Array(n_vocab).fill(TOKEN_NORMAL);
    for (let i = 0; i < sp.tokens.length; i++) types[base + i] = TOKEN_CONTROL;
    /** @type {Array<[string, any]>} */
    const kv = [
        ['tokenizer.ggml.model', 'gpt2'],
        ['tokenizer.ggml.pre', pre],
        ['tokenizer.ggml.tokens', arr(GGUF_TYPE.STRING, tokens)],
        ['tokenizer.ggml.token_type', arr(GGUF_TYPE.INT32, types)],
        ['tokenizer.ggml.merges', arr(GGUF_TYPE.STRING, merges)],
        ['tokenizer.ggml.bos_token_id', u32(base + sp.bos)],
        ['tokenizer.ggml.eos_token_id', u32(base + sp.eos)],
    ];
    if (sp.pad >= 0) kv.push(['tokenizer.ggml.padding_token_id', u32(base + sp.pad)]);
    kv.push(['tokenizer.ggml.add_bos_token', sp.addBos]);
    return kv;
}

/**
 * A small SentencePiece vocabulary laid out like a family's real one: `specials` (text, type) at
 * ids 0.., then the 256 byte tokens <0x00>..<0xFF>, then plain pieces, then `tail` specials at the
 * end (Phi-3 appends its chat tokens after Llama 2's 32000).
 * @param {number} n_vocab
 * @param {{specials: Array<[string, number]>, tail?: Array<[string, number]>,
 *   ids: {bos: number, eos: number, unk: number, pad?: number}, addBos: boolean,
 *   addSpacePrefix?: boolean}} layout ids: negative counts from the end
 * @returns {Array<[string, any]>}
 */
function spmVocab(n_vocab, layout) {
    const tail = layout.tail ?? [];
    const tokens = new Array(n_vocab);
    const scores = new Float32Array(n_vocab);
    const types = new Int32Array(n_vocab);
    const nHead = layout.specials.length;
    if (n_vocab < nHead + 256 + tail.length + 1) throw new RangeError(`spmVocab: n_vocab ${n_vocab} too small`);
    for (let id = 0; id < n_vocab; id++) {
        const t = n_vocab - tail.length;
        if (id < nHead) [tokens[id], types[id]] = layout.specials[id];
        else if (id < nHead + 256) {
            tokens[id] = `<0x${(id - nHead).toString(16).toUpperCase().padStart(2, '0')}>`;
            types[id] = TOKEN_BYTE;
        } else if (id >= t) {
            [tokens[id], types[id]] = tail[id - t];
            scores[id] = -1000;
        } else {
            tokens[id] = `t${id}`;
            types[id] = TOKEN_NORMAL;
            scores[id] = -(id - nHead - 256);
        }
    }
    const id = (/** @type {number} */ i) => (i < 0 ? n_vocab + i : i);
    /** @type {Array<[string, any]>} */
    const kv = [
        ['tokenizer.ggml.model', 'llama'],
        ['tokenizer.ggml.pre', 'default'],
        ['tokenizer.ggml.tokens', arr(GGUF_TYPE.STRING, tokens)],
        ['tokenizer.ggml.scores', arr(GGUF_TYPE.FLOAT32, scores)],
        ['tokenizer.ggml.token_type', arr(GGUF_TYPE.INT32, types)],
        ['tokenizer.ggml.bos_token_id', u32(id(layout.ids.bos))],
        ['tokenizer.ggml.eos_token_id', u32(id(layout.ids.eos))],
        ['tokenizer.ggml.unknown_token_id', u32(id(layout.ids.unk))],
    ];
    if (layout.ids.pad !== undefined) kv.push(['tokenizer.ggml.padding_token_id', u32(id(layout.ids.pad))]);
    kv.push(['tokenizer.ggml.add_bos_token', layout.addBos], ['tokenizer.ggml.add_eos_token', false]);
    if (layout.addSpacePrefix !== undefined) kv.push(['tokenizer.ggml.add_space_prefix', layout.addSpacePrefix]);
    return kv;
}

/**
 * Gemma's layout: <pad> <eos> <bos> <unk> at 0-3 (bos 2, eos 1), chat turn markers, then bytes;
 * Gemma 2's converter writes add_space_prefix = false.
 * @param {number} n_vocab
 */
const gemmaVocab = (n_vocab) => spmVocab(n_vocab, {
    specials: [['<pad>', TOKEN_CONTROL], ['<eos>', TOKEN_CONTROL], ['<bos>', TOKEN_CONTROL], ['<unk>', TOKEN_UNKNOWN],
        ['<start_of_turn>', TOKEN_CONTROL], ['<end_of_turn>', TOKEN_CONTROL]],
    ids: { bos: 2, eos: 1, unk: 3, pad: 0 }, addBos: true, addSpacePrefix: false,
});

/**
 * Phi-3's layout: Llama 2's <unk> <s> </s> and bytes, then its chat tokens after the pieces
 * (<|endoftext|> = eos and pad, as in Phi-3.5-mini's config).
 * @param {number} n_vocab
 */
const phi3Vocab = (n_vocab) => spmVocab(n_vocab, {
    specials: [['<unk>', TOKEN_UNKNOWN], ['<s>', TOKEN_CONTROL], ['</s>', TOKEN_CONTROL]],
    tail: [['<|endoftext|>', TOKEN_CONTROL], ['<|assistant|>', TOKEN_CONTROL], ['<|system|>', TOKEN_CONTROL],
        ['<|end|>', TOKEN_CONTROL], ['<|user|>', TOKEN_CONTROL]],
    ids: { bos: 1, eos: -5, unk: 0, pad: -5 }, addBos: true,
});

// ---- model content ------------------------------------------------------------------------------------

/** Per-architecture defaults of the options (the families' real values). */
const ARCH_DEFAULTS = Object.freeze({
    llama: { tied: false, normEps: 1e-5, n_ctx: 256, vocab: 'spm' },
    qwen2: { tied: true, normEps: 1e-6, n_ctx: 256, vocab: 'gpt2' },
    qwen3: { tied: true, normEps: 1e-6, n_ctx: 256, vocab: 'gpt2' },
    phi3: { tied: false, normEps: 1e-5, n_ctx: 131072, vocab: 'spm' },
    gemma2: { tied: true, normEps: 1e-6, n_ctx: 256, vocab: 'spm' },
});

/**
 * Builds the GGUF content of a random model of `o.arch` (default llama).
 * @param {RandomModelOptions} [o]
 * @returns {{content: import('../../../bindings/js/convert/gguf-writer.js').GgufContent,
 *   config: {arch: string, n_vocab: number, n_embd: number, n_layer: number, n_head: number,
 *     n_head_kv: number, head_dim: number, n_ff: number, n_ctx: number, tied: boolean,
 *     weightType: string, seed: number}}}
 */
export function randomModelContent(o = {}) {
    const arch = o.arch ?? 'llama';
    if (!ARCHS.includes(arch)) throw new TypeError(`unknown arch ${arch} (one of ${ARCHS.join(', ')})`);
    const ad = /** @type {any} */ (ARCH_DEFAULTS)[arch];
    const n_vocab = o.n_vocab ?? 512, n_embd = o.n_embd ?? 256, n_layer = o.n_layer ?? 2;
    const n_head = o.n_head ?? 4, n_head_kv = o.n_head_kv ?? n_head, n_ff = o.n_ff ?? 512;
    const n_ctx = o.n_ctx ?? ad.n_ctx, weightType = o.weightType ?? 'F32';
    const tied = o.tied ?? ad.tied;
    const seed = o.seed ?? 1;
    const s = { ...DEFAULT_SCALES, ...(/** @type {any} */ (ARCH_SCALES)[arch]), ...(o.scales ?? {}) };
    if (!WEIGHT_TYPES.includes(weightType)) throw new TypeError(`unknown weightType ${weightType}`);
    if (n_head % n_head_kv) throw new RangeError('n_head % n_head_kv');
    const explicitHeadDim = arch === 'qwen3' || arch === 'gemma2';
    if (!explicitHeadDim && n_embd % n_head) throw new RangeError('n_embd % n_head');
    const head_dim = explicitHeadDim ? o.head_dim ?? n_embd / n_head : n_embd / n_head;
    if (!Number.isInteger(head_dim) || head_dim % 2) throw new RangeError(`head_dim ${head_dim}`);
    if (o.head_dim !== undefined && o.head_dim !== head_dim) {
        throw new RangeError(`${arch}: head_dim is n_embd / n_head = ${head_dim}, not ${o.head_dim}`);
    }
    if (arch === 'gemma2' && o.tied === false) throw new RangeError('gemma2: the output head is always tied');
    const n_q = n_head * head_dim;             // query (and attention output) width
    const n_kv = n_head_kv * head_dim;         // key / value width
    const n_rot = head_dim;

    /** @type {import('../../../bindings/js/convert/gguf-writer.js').GgufTensor[]} */
    const tensors = [];
    /** @param {string} type @param {number} rowLen */
    const stored = (type, rowLen) => (o.kFallback ? fallbackType(type, rowLen) : type);
    /**
     * @param {string} name @param {string} type @param {number[]} dims ne (innermost first)
     * @param {number} std
     */
    const weight = (name, type, dims, std) => {
        const n = dims.reduce((a, b) => a * b, 1);
        const t = stored(type, dims[0]);
        tensors.push({
            name, type: GGML_TYPE[t], dims,
            data: () => randomTensorBytes(t, n, std, makeRng(seed ^ hash(name))),
        });
    };
    /**
     * A fused 2-D weight: row blocks of different scales stacked along the output dimension (rows
     * are independent in every ggml type, so the parts' bytes simply concatenate).
     * @param {string} name @param {string} type @param {number} rowLen
     * @param {Array<{rows: number, std: number}>} parts
     */
    const fused = (name, type, rowLen, parts) => {
        const t = stored(type, rowLen);
        const rows = parts.reduce((a, p) => a + p.rows, 0);
        tensors.push({
            name, type: GGML_TYPE[t], dims: [rowLen, rows],
            data: () => {
                const chunks = parts.map((p, i) => randomTensorBytes(t, rowLen * p.rows, p.std, makeRng(seed ^ hash(`${name}#${i}`))));
                const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
                let at = 0;
                for (const c of chunks) { out.set(c, at); at += c.length; }
                return out;
            },
        });
    };
    /**
     * @param {string} name @param {number} n @param {boolean} [signs] random sign per weight
     * @param {number} [gain]
     */
    const norm = (name, n, signs = false, gain = 1) => {
        const rng = makeRng(seed ^ hash(name));
        const v = new Float32Array(n);
        for (let i = 0; i < n; i++) {
            v[i] = gain * (1 + s.normSpread * rng.normal());
            if (signs && rng.u32() & 1) v[i] = -v[i];
        }
        tensors.push({ name, type: GGML_TYPE.F32, dims: [n], data: encodeFloats(v) });
    };
    /** @param {string} name @param {Float32Array} v */
    const vector = (name, v) => tensors.push({ name, type: GGML_TYPE.F32, dims: [v.length], data: encodeFloats(v) });
    /** @param {string} name @param {number} n @param {number} std */
    const bias = (name, n, std) => {
        const rng = makeRng(seed ^ hash(name));
        vector(name, Float32Array.from({ length: n }, () => std * rng.normal()));
    };
    const inv = (/** @type {number} */ fanIn) => 1 / Math.sqrt(fanIn);
    const t = (/** @type {string} */ role) => tensorType(weightType, role);

    // token embedding and head
    const embdStd = arch === 'gemma2' ? s.embd / Math.sqrt(n_embd) : s.embd;
    const embdRole = arch !== 'llama' && tied ? 'output' : 'token_embd';
    weight('token_embd.weight', o.embdType ?? t(embdRole), [n_embd, n_vocab], embdStd);
    // Tied head: logit_j = (h / rms(h) ⊙ w) · e_j, and h contains e_cur, so with positive w the
    // current token scores Σ e_cur,i² w_i extra and greedy runs lock onto one token. Random signs on
    // the output norm cancel that self-similarity in expectation.
    norm('output_norm.weight', n_embd, tied, s.outNorm);
    if (!tied) weight('output.weight', t('output'), [n_embd, n_vocab], s.out * inv(n_embd));
    if (o.ropeFreqs) {
        if (arch !== 'llama') throw new TypeError('ropeFreqs (rope_freqs.weight) is a llama option');
        const factors = Array.isArray(o.ropeFreqs)
            ? Float32Array.from(o.ropeFreqs)
            : llama3Factors(n_rot / 2, seed);
        if (factors.length !== n_rot / 2) throw new RangeError(`ropeFreqs needs ${n_rot / 2} factors`);
        vector('rope_freqs.weight', factors);
    }
    const ropeFactors = arch === 'phi3' && (o.ropeFactors ?? true);
    if (ropeFactors) {
        const [long, short] = longRopeFactors(n_rot / 2, seed);
        vector('rope_factors_long.weight', long);
        vector('rope_factors_short.weight', short);
    }

    for (let l = 0; l < n_layer; l++) {
        const b = `blk.${l}`;
        norm(`${b}.attn_norm.weight`, n_embd);
        if (arch === 'phi3') {
            // attn_qkv rows: Q (n_embd), K (n_kv), V (n_kv), as Phi3's qkv_proj
            fused(`${b}.attn_qkv.weight`, t('attn_qkv'), n_embd, [
                { rows: n_q, std: s.qk * inv(n_embd) }, { rows: n_kv, std: s.qk * inv(n_embd) },
                { rows: n_kv, std: s.v * inv(n_embd) },
            ]);
        } else {
            weight(`${b}.attn_q.weight`, t('attn_q'), [n_embd, n_q], s.qk * inv(n_embd));
            weight(`${b}.attn_k.weight`, t('attn_k'), [n_embd, n_kv], s.qk * inv(n_embd));
            weight(`${b}.attn_v.weight`, t('attn_v'), [n_embd, n_kv], s.v * inv(n_embd));
        }
        if (arch === 'qwen2' && (o.qkvBias ?? true)) {
            bias(`${b}.attn_q.bias`, n_q, s.bias);
            bias(`${b}.attn_k.bias`, n_kv, s.bias);
            bias(`${b}.attn_v.bias`, n_kv, s.bias);
        }
        if (arch === 'qwen3') {
            // per-head RMS norms of Q and K (before RoPE): they alone set the score scale
            norm(`${b}.attn_q_norm.weight`, head_dim, false, s.qkNorm);
            norm(`${b}.attn_k_norm.weight`, head_dim, false, s.qkNorm);
        }
        weight(`${b}.attn_output.weight`, t('attn_output'), [n_q, n_embd], s.o * inv(n_q));
        // Gemma's RMSNorm multiplies by (1 + w); its converter stores w + 1 (conversion/gemma.py
        // Gemma2Model.modify_tensors) and llama.cpp multiplies by the stored value, so these are
        // stored values, as for every other family
        if (arch === 'gemma2') norm(`${b}.post_attention_norm.weight`, n_embd, false, s.postNorm);
        norm(`${b}.ffn_norm.weight`, n_embd);
        if (arch === 'phi3') {
            // ffn_up rows: gate (first n_ff, through SiLU) then up, as Phi3's gate_up_proj and
            // ggml_swiglu's split
            fused(`${b}.ffn_up.weight`, t('ffn_up'), n_embd, [
                { rows: n_ff, std: s.gateUp * inv(n_embd) }, { rows: n_ff, std: s.gateUp * inv(n_embd) },
            ]);
            weight(`${b}.ffn_down.weight`, t('ffn_down'), [n_ff, n_embd], s.down * inv(n_ff));
        } else {
            weight(`${b}.ffn_gate.weight`, t('ffn_gate'), [n_embd, n_ff], s.gateUp * inv(n_embd));
            weight(`${b}.ffn_down.weight`, t('ffn_down'), [n_ff, n_embd], s.down * inv(n_ff));
            weight(`${b}.ffn_up.weight`, t('ffn_up'), [n_embd, n_ff], s.gateUp * inv(n_embd));
        }
        if (arch === 'gemma2') norm(`${b}.post_ffw_norm.weight`, n_embd, false, s.postNorm);
    }

    /** @type {Array<[string, any]>} */
    const metadata = [
        ['general.architecture', arch],
        ['general.name', o.name ?? (arch === 'llama' ? `random-${weightType}-${seed}` : `random-${arch}-${weightType}-${seed}`)],
        ['general.file_type', u32(FILE_TYPE[weightType])],
    ];
    const k = (/** @type {string} */ key, /** @type {any} */ v) => metadata.push([`${arch}.${key}`, v]);
    const eps = o.normEps ?? ad.normEps;
    if (arch === 'llama') {
        k('context_length', u32(n_ctx));
        k('embedding_length', u32(n_embd));
        k('block_count', u32(n_layer));
        k('feed_forward_length', u32(n_ff));
        k('attention.head_count', u32(n_head));
        k('attention.head_count_kv', u32(n_head_kv));
        k('rope.dimension_count', u32(n_rot));
        k('attention.layer_norm_rms_epsilon', f32(eps));
        k('rope.freq_base', f32(o.freqBase ?? 10000));
        k('vocab_size', u32(n_vocab));
    } else if (arch === 'qwen2' || arch === 'qwen3') {
        // as convert_hf_to_gguf's TextModel: no rope.dimension_count; key/value_length only when
        // config.json has head_dim (Qwen3 does, Qwen2 does not)
        k('block_count', u32(n_layer));
        k('context_length', u32(n_ctx));
        k('embedding_length', u32(n_embd));
        k('feed_forward_length', u32(n_ff));
        k('attention.head_count', u32(n_head));
        k('attention.head_count_kv', u32(n_head_kv));
        k('rope.freq_base', f32(o.freqBase ?? 10000));
        k('attention.layer_norm_rms_epsilon', f32(eps));
        if (arch === 'qwen3') {
            k('attention.key_length', u32(head_dim));
            k('attention.value_length', u32(head_dim));
        }
    } else if (arch === 'phi3') {
        const orig = o.n_ctx_orig ?? 4096;
        k('context_length', u32(n_ctx));
        k('rope.scaling.original_context_length', u32(orig));
        k('embedding_length', u32(n_embd));
        k('feed_forward_length', u32(n_ff));
        k('block_count', u32(n_layer));
        k('attention.head_count', u32(n_head));
        k('attention.head_count_kv', u32(n_head_kv));
        k('attention.layer_norm_rms_epsilon', f32(eps));
        k('rope.dimension_count', u32(n_rot));
        k('rope.freq_base', f32(o.freqBase ?? 10000));
        k('attention.sliding_window', u32(o.slidingWindow ?? 262144));
        if (ropeFactors) {
            // convert_hf_to_gguf Phi3MiniModel, longrope: sqrt(1 + ln(scale) / ln(orig)) if scale > 1
            const scale = n_ctx / orig;
            const af = o.ropeAttnFactor ?? (scale > 1 ? Math.sqrt(1 + Math.log(scale) / Math.log(orig)) : 1);
            k('rope.scaling.attn_factor', f32(af));
        }
    } else if (arch === 'gemma2') {
        k('context_length', u32(n_ctx));
        k('embedding_length', u32(n_embd));
        k('block_count', u32(n_layer));
        k('feed_forward_length', u32(n_ff));
        k('attention.head_count', u32(n_head));
        k('attention.head_count_kv', u32(n_head_kv));
        k('attention.layer_norm_rms_epsilon', f32(eps));
        k('attention.key_length', u32(head_dim));
        k('attention.value_length', u32(head_dim));
        k('attn_logit_softcapping', f32(o.attnSoftcap ?? 50));
        k('final_logit_softcapping', f32(o.finalSoftcap ?? 30));
        k('attention.sliding_window', u32(o.slidingWindow ?? 4096));
        if (o.freqBase !== undefined) k('rope.freq_base', f32(o.freqBase));
    }
    if (o.ropeScaleLinear !== undefined) {
        k('rope.scaling.type', str('linear'));
        k('rope.scaling.factor', f32(o.ropeScaleLinear));
    }
    const vocab = o.vocab ?? ad.vocab;
    if (vocab === 'gpt2') metadata.push(...gpt2Vocab(n_vocab, o.tokenizerPre ?? (arch === 'llama' ? 'llama-bpe' : 'qwen2')));
    else if (arch === 'gemma2') metadata.push(...gemmaVocab(n_vocab));
    else if (arch === 'phi3') metadata.push(...phi3Vocab(n_vocab));
    else metadata.push(...minimalLlamaVocab(n_vocab));
    return {
        content: { metadata, tensors },
        config: { arch, n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx, tied, weightType, seed },
    };
}

/**
 * Builds the GGUF content of a random llama model (randomModelContent with arch 'llama' unless
 * `o.arch` says otherwise).
 * @param {RandomModelOptions} [o]
 */
export function randomLlamaContent(o = {}) {
    return randomModelContent(o);
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
 * Phi-3.5-like LongRoPE factors (they divide the frequencies): long ones rising from ~1 to ~60 over
 * the dimensions, short ones from 1 to ~3, each with ±10% jitter, so that swapping the two, or
 * using neither, changes the logits.
 * @param {number} n n_rot / 2 @param {number} seed @returns {[Float32Array, Float32Array]}
 */
function longRopeFactors(n, seed) {
    const rng = makeRng(seed ^ 0x10e6);
    const long = new Float32Array(n), short = new Float32Array(n);
    for (let i = 0; i < n; i++) {
        const x = i / Math.max(1, n - 1);
        long[i] = (1 + 59 * x * x) * (0.9 + 0.2 * rng.uniform());
        short[i] = (1 + 2 * x * x) * (0.9 + 0.2 * rng.uniform());
    }
    return [long, short];
}

/**
 * Writes a random model to `path` (atomically) and returns its configuration.
 * @param {string} path
 * @param {RandomModelOptions} [opts]
 */
export async function writeRandomModel(path, opts = {}) {
    const { content, config } = randomModelContent(opts);
    const { bytes } = await writeGguf(path, content);
    return { path, bytes, config };
}

/**
 * Writes a random llama model to `path` (atomically) and returns its configuration.
 * @param {string} path
 * @param {RandomModelOptions} [opts]
 */
export async function writeRandomLlama(path, opts = {}) {
    return writeRandomModel(path, opts);
}
