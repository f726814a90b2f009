// Reference runner: llama.cpp (through node-llama-cpp's prebuilt CPU binary) on a GGUF file, fed
// token ids directly, greedy, returning every step's full logit vector. The engine's parity tests
// compare against this. It never builds or downloads llama.cpp; it fails if the prebuilt binary
// for this platform is missing.
//
// Settings, so that numbers are as comparable as llama.cpp allows:
// - CPU only (gpu: false), no GPU layers.
// - KV cache F32 for keys and values (default f32Kv = true; node-llama-cpp's default is F16).
// - Flash attention OFF: the plain path computes softmax(K·Q / sqrt(d)) with F32 K/V in F32; the
//   CPU flash-attention kernel converts Q/V to F16 internally, which would add noise.
// - Greedy = llama.cpp's greedy sampler alone (no temperature, penalties, top-k/p, bias, grammar),
//   which picks the first index of the largest logit; logits are read before that sampler runs.
// - No BOS is added: the prompt ids are decoded exactly as given.
// - No context shift: a run longer than the context is an error, not a silent window slide.
// Accuracy to expect (measured on tests/js/support/random-model.js models, logit rms ~8): llama.cpp
// quantizes activations (Q8_0/Q8_1/Q8_K, or F16/BF16 for those weights) before quantized matmuls,
// so one output matmul differs from an exact float64 dequantize-and-dot by up to ~0.15-0.25
// (F16 6e-3, BF16 5e-2, F32 4e-6). Through two layers such rounding flips re-roll: switching the V
// cache to F16 moves quantized models' logits by up to ~1, F32 models' by ~0.05.

import { getLlama } from 'node-llama-cpp';

/** @type {Promise<import('node-llama-cpp').Llama> | null} */
let llamaPromise = null;

/**
 * The shared llama.cpp instance (CPU, prebuilt binary only, warnings and errors to stderr).
 * @returns {Promise<import('node-llama-cpp').Llama>}
 */
export function getReferenceLlama() {
    if (!llamaPromise) {
        llamaPromise = getLlama({
            gpu: false,
            build: 'never',
            usePrebuiltBinaries: true,
            skipDownload: true,
            progressLogs: false,
            logLevel: /** @type {any} */ ('error'),
        });
        llamaPromise.catch(() => { llamaPromise = null; });
    }
    return llamaPromise;
}

/** Releases the shared llama.cpp instance (tests call this in `after`). */
export async function disposeReferenceLlama() {
    const p = llamaPromise;
    llamaPromise = null;
    if (p) await (await p).dispose();
}

/**
 * @typedef {object} ReferenceOptions
 * @property {boolean} [f32Kv] F32 K and V cache (default true); false keeps llama.cpp's F16 default
 * @property {number} [threads] evaluation threads (default 1). node-llama-cpp's own default is
 *   max(cores, 4): on a 2-core machine its spinning worker threads oversubscribe the CPU and a
 *   32-token run of a 260K-parameter model takes 20 s instead of 25 ms. One thread is also the
 *   most reproducible choice.
 * @property {number} [contextSize] KV cache length (default: prompt + steps, rounded up by llama.cpp)
 * @property {number} [batchSize] tokens per llama_decode for the prompt (default: whole prompt)
 */

/**
 * @typedef {object} ReferenceRun
 * @property {number[]} tokens tokens[i] = argmax of logits[i] (first index on ties)
 * @property {Float32Array[]} logits logits[i] = full n_vocab logits that chose tokens[i]; step 0 is
 *   the prediction after the last prompt token, step i>0 after feeding tokens[i-1]
 * @property {number} nVocab
 */

/**
 * Greedy continuation of `promptTokens` under llama.cpp.
 * @param {string} path GGUF file
 * @param {number[]} promptTokens at least one token id; no BOS is added
 * @param {number} nSteps tokens to generate (>= 1)
 * @param {ReferenceOptions} [opts]
 * @returns {Promise<ReferenceRun>}
 */
export async function referenceGreedy(path, promptTokens, nSteps, opts = {}) {
    if (!Array.isArray(promptTokens) || promptTokens.length === 0) {
        throw new TypeError('referenceGreedy: promptTokens must be a non-empty array of ids');
    }
    if (!(nSteps >= 1)) throw new RangeError('referenceGreedy: nSteps must be >= 1');
    const { f32Kv = true, threads = 1, batchSize } = opts;
    const llama = await getReferenceLlama();
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    try {
        const contextSize = opts.contextSize ?? promptTokens.length + nSteps + 1;
        const context = await model.createContext({
            contextSize,
            batchSize: batchSize ?? Math.max(promptTokens.length, 1),
            sequences: 1,
            flashAttention: false,
            threads,
            ...(f32Kv ? { experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } : {}),
        });
        try {
            if (promptTokens.length + nSteps - 1 > context.contextSize) {
                throw new RangeError(`referenceGreedy: ${promptTokens.length} + ${nSteps} tokens exceed `
                    + `the context (${context.contextSize})`);
            }
            const seq = context.getSequence();
            /** @type {any} */
            const want = { generateNext: { token: true, logits: true } };
            const tokens = [];
            const logits = [];
            /** @type {any[]} */
            let input = [...promptTokens.slice(0, -1), [promptTokens[promptTokens.length - 1], want]];
            for (let step = 0; step < nSteps; step++) {
                const res = await seq.controlledEvaluate(input);
                const next = res[input.length - 1]?.next;
                if (!next || next.token == null || !next.logits) {
                    throw new Error(`referenceGreedy: llama.cpp returned no token at step ${step}`);
                }
                const vec = logitsToVector(next.logits);
                if (argmax(vec) !== next.token) {
                    throw new Error(`referenceGreedy: llama.cpp picked ${next.token}, not the argmax ${argmax(vec)}`);
                }
                tokens.push(next.token);
                logits.push(vec);
                input = [[next.token, want]];
            }
            return { tokens, logits, nVocab: logits[0].length };
        } finally {
            await context.dispose();
        }
    } finally {
        await model.dispose();
    }
}

/**
 * Teacher-forced logits: feeds `tokens` and returns the logits after each one (logits[i] predicts
 * tokens[i+1]). Lets a parity test compare every position even where a near-tie would make two
 * greedy runs diverge.
 * @param {string} path GGUF file
 * @param {number[]} tokens ids, no BOS added
 * @param {ReferenceOptions & {perToken?: boolean}} [opts] perToken: one llama_decode per token, as
 *   in generation. The default, one batch with logits for every position, makes llama.cpp use other
 *   matmul kernels for some weight types (F16, BF16, Q2_K, Q4_K output heads): measured differences
 *   from perToken reach 1e-2 (F16) to 0.8 (Q2_K) on logit rms ~8; 0 or ~1e-5 for the others.
 * @returns {Promise<Float32Array[]>}
 */
export async function referenceLogits(path, tokens, opts = {}) {
    if (!Array.isArray(tokens) || tokens.length === 0) {
        throw new TypeError('referenceLogits: tokens must be a non-empty array of ids');
    }
    const { f32Kv = true, threads = 1, perToken = false } = opts;
    const llama = await getReferenceLlama();
    const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
    try {
        const context = await model.createContext({
            contextSize: opts.contextSize ?? tokens.length + 1,
            batchSize: perToken ? 1 : (opts.batchSize ?? tokens.length),
            sequences: 1,
            flashAttention: false,
            threads,
            ...(f32Kv ? { experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32' } : {}),
        });
        try {
            if (tokens.length > context.contextSize) {
                throw new RangeError(`referenceLogits: ${tokens.length} tokens exceed the context (${context.contextSize})`);
            }
            const seq = context.getSequence();
            /** @type {any} */
            const want = { generateNext: { logits: true } };
            const out = [];
            const chunks = perToken ? tokens.map((t) => [t]) : [tokens];
            for (const chunk of chunks) {
                const res = await seq.controlledEvaluate(/** @type {any} */ (chunk.map((t) => [t, want])));
                for (let i = 0; i < chunk.length; i++) {
                    const logits = res[i]?.next?.logits;
                    if (!logits) throw new Error(`referenceLogits: no logits at position ${out.length}`);
                    out.push(logitsToVector(logits));
                }
            }
            return out;
        } finally {
            await context.dispose();
        }
    } finally {
        await model.dispose();
    }
}

/**
 * node-llama-cpp returns the logits as a Map token → logit (every vocabulary entry, sorted by
 * value); turn it into a dense vector indexed by token id.
 * @param {Map<number, number>} map
 * @returns {Float32Array}
 */
function logitsToVector(map) {
    const v = new Float32Array(map.size).fill(NaN);
    for (const [id, x] of map) {
        if (!(id >= 0 && id < v.length)) {
            throw new Error(`llama-ref: logit for id ${id} outside the vocabulary`);
        }
        v[id] = x;
    }
    if (v.some(Number.isNaN)) throw new Error('llama-ref: logits incomplete or NaN');
    return v;
}

/**
 * Index of the largest value (first on ties), as llama.cpp's greedy sampler picks.
 * @param {ArrayLike<number>} v @returns {number}
 */
export function argmax(v) {
    let best = 0;
    for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
    return best;
}

/**
 * Gap between the largest and second-largest logit.
 * @param {ArrayLike<number>} v @returns {number}
 */
export function top2Gap(v) {
    let a = -Infinity, b = -Infinity;
    for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (x > a) { b = a; a = x; } else if (x > b) b = x;
    }
    return a - b;
}

/**
 * Summary of a greedy run: distinct tokens, longest run of one token, and the top-1/top-2 logit
 * gap's minimum, 10th percentile and median over the steps.
 * @param {ReferenceRun} run
 * @returns {{distinct: number, maxRepeat: number, minGap: number, p10Gap: number, medianGap: number}}
 */
export function runStats(run) {
    const gaps = run.logits.map(top2Gap).sort((x, y) => x - y);
    let maxRepeat = 1, cur = 1;
    for (let i = 1; i < run.tokens.length; i++) {
        cur = run.tokens[i] === run.tokens[i - 1] ? cur + 1 : 1;
        maxRepeat = Math.max(maxRepeat, cur);
    }
    const q = (/** @type {number} */ f) => gaps[Math.min(gaps.length - 1, Math.floor(f * gaps.length))];
    return {
        distinct: new Set(run.tokens).size,
        maxRepeat,
        minGap: gaps[0],
        p10Gap: q(0.1),
        medianGap: q(0.5),
    };
}
