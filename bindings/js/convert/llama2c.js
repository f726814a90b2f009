// Converts a llama2.c checkpoint (legacy "version 0" format of karpathy/llama2.c run.c) into a GGUF
// of architecture `llama` with llama.cpp's tensor names and hyper-parameter keys.
// Not a tokenizer converter: llama2.c keeps its vocabulary in a separate tokenizer.bin, so the GGUF
// gets a placeholder SentencePiece-style vocabulary of the right size (token ids are what we compare).
// llama2.c rotates adjacent pairs (x[2i], x[2i+1]) in RoPE, as llama.cpp's normal (non-NeoX) RoPE
// for `llama` does, so Q/K rows are copied unpermuted (checked against llama.cpp in tests/js).
//
// Checkpoint layout: int32 header {dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
// seq_len} (vocab_size < 0: separate classifier at the end), then float32 tensors, row-major
// [out][in]:
//   token_embedding_table [vocab][dim]      rms_att_weight [layer][dim]
//   wq [layer][dim][dim]   wk [layer][kv_dim][dim]   wv [layer][kv_dim][dim]   wo [layer][dim][dim]
//   rms_ffn_weight [layer][dim]
//   w1 [layer][hidden][dim]   w2 [layer][dim][hidden]   w3 [layer][hidden][dim]
//   rms_final_weight [dim]   freq_cis_real [seq_len][head_size/2]   freq_cis_imag (same; unused)
//   wcls [vocab][dim] (only when vocab_size < 0)

import { readFile } from 'node:fs/promises';
import {
    GGML_TYPE, GGUF_TYPE, arr, encodeFloats, f32, u32, writeGguf,
} from './gguf-writer.js';

/**
 * @typedef {object} Llama2cConfig
 * @property {number} dim         model width (n_embd)
 * @property {number} hidden_dim  FFN width (n_ff)
 * @property {number} n_layers
 * @property {number} n_heads
 * @property {number} n_kv_heads
 * @property {number} vocab_size  always positive here
 * @property {number} seq_len     training context (n_ctx_train)
 * @property {boolean} shared_classifier  true when the output head is the embedding table
 */

const LLAMA2C_MAGIC_V1 = 0x616b3432; // "ak42": the newer export format, not handled here

/**
 * Parses a legacy llama2.c checkpoint. Returned tensors are float32 byte views into `bytes`
 * (little-endian, as llama2.c writes them), row-major with the output dimension outermost.
 * @param {Uint8Array} bytes whole file
 * @returns {{config: Llama2cConfig, tensors: Map<string, {shape: number[], bytes: Uint8Array}>}}
 *   tensor keys use llama2.c names with a layer suffix: `wq.3`, `rms_att_weight.0`, `wcls`
 */
export function parseLlama2c(bytes) {
    if (bytes.length < 28) throw new Error('llama2c: file shorter than its 28-byte header');
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (dv.getUint32(0, true) === LLAMA2C_MAGIC_V1) {
        throw new Error('llama2c: version-1+ export ("ak42" magic) is not supported; use the legacy format');
    }
    const h = Array.from({ length: 7 }, (_, i) => dv.getInt32(i * 4, true));
    const [dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_signed, seq_len] = h;
    const config = {
        dim, hidden_dim, n_layers, n_heads, n_kv_heads,
        vocab_size: Math.abs(vocab_signed), seq_len, shared_classifier: vocab_signed > 0,
    };
    if ([dim, hidden_dim, n_layers, n_heads, n_kv_heads, config.vocab_size, seq_len].some((x) => x <= 0)
        || dim % n_heads !== 0 || n_heads % n_kv_heads !== 0 || (dim / n_heads) % 2 !== 0) {
        throw new Error(`llama2c: implausible header [${h}]`);
    }
    const head_size = dim / n_heads;
    const kv_dim = (dim * n_kv_heads) / n_heads;
    const V = config.vocab_size;

    /** @type {Array<[string, number[]]>} */
    const plan = [['token_embedding_table', [V, dim]]];
    /** @param {string} name @param {number[]} shape */
    const perLayer = (name, shape) => {
        for (let l = 0; l < n_layers; l++) plan.push([`${name}.${l}`, shape]);
    };
    perLayer('rms_att_weight', [dim]);
    perLayer('wq', [dim, dim]);
    perLayer('wk', [kv_dim, dim]);
    perLayer('wv', [kv_dim, dim]);
    perLayer('wo', [dim, dim]);
    perLayer('rms_ffn_weight', [dim]);
    perLayer('w1', [hidden_dim, dim]);
    perLayer('w2', [dim, hidden_dim]);
    perLayer('w3', [hidden_dim, dim]);
    plan.push(['rms_final_weight', [dim]]);
    plan.push(['freq_cis_real', [seq_len, head_size / 2]]);
    plan.push(['freq_cis_imag', [seq_len, head_size / 2]]);
    if (!config.shared_classifier) plan.push(['wcls', [V, dim]]);

    const tensors = new Map();
    let off = 28;
    for (const [name, shape] of plan) {
        const n = shape.reduce((a, b) => a * b, 1) * 4;
        if (off + n > bytes.length) {
            throw new Error(`llama2c: file truncated in ${name} (needs ${off + n} bytes, has ${bytes.length})`);
        }
        tensors.set(name, { shape, bytes: bytes.subarray(off, off + n) });
        off += n;
    }
    if (off !== bytes.length) {
        throw new Error(`llama2c: ${bytes.length - off} unexpected trailing bytes (header [${h}])`);
    }
    return { config, tensors };
}

/**
 * The tokenizer.* metadata of a llama2.c (SentencePiece) vocabulary: llama2.c's fixed special ids
 * (unk 0, bos 1, eos 2), BOS added, EOS not.
 * @param {string[]} tokens @param {Float32Array | number[]} scores @param {Int32Array | number[]} types
 * @returns {Array<[string, any]>}
 */
function spmTokenizerMetadata(tokens, scores, types) {
    return [
        ['tokenizer.ggml.model', 'llama'],
        ['tokenizer.ggml.tokens', arr(GGUF_TYPE.STRING, tokens)],
        ['tokenizer.ggml.scores', arr(GGUF_TYPE.FLOAT32, scores)],
        ['tokenizer.ggml.token_type', arr(GGUF_TYPE.INT32, types)],
        ['tokenizer.ggml.bos_token_id', u32(1)],
        ['tokenizer.ggml.eos_token_id', u32(2)],
        ['tokenizer.ggml.unknown_token_id', u32(0)],
        ['tokenizer.ggml.add_bos_token', true],
        ['tokenizer.ggml.add_eos_token', false],
    ];
}

/**
 * A minimal llama (SentencePiece-type) vocabulary for llama.cpp to load: "<unk>", "<s>", "</s>",
 * the 256 byte tokens "<0x00>".."<0xFF>", then "t<id>" for the rest (as far as n_vocab reaches).
 * BOS = 1, EOS = 2, UNK = 0.
 * @param {number} n_vocab
 * @returns {Array<[string, import('./gguf-writer.js').GgufValue | string | boolean]>}
 */
export function minimalLlamaVocab(n_vocab) {
    if (n_vocab < 3) throw new RangeError('minimalLlamaVocab: need at least 3 tokens');
    const tokens = new Array(n_vocab);
    const scores = new Float32Array(n_vocab);
    const types = new Int32Array(n_vocab);
    const TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3, TYPE_BYTE = 6;
    for (let id = 0; id < n_vocab; id++) {
        if (id === 0) { tokens[id] = '<unk>'; types[id] = TYPE_UNKNOWN; continue; }
        if (id === 1) { tokens[id] = '<s>'; types[id] = TYPE_CONTROL; continue; }
        if (id === 2) { tokens[id] = '</s>'; types[id] = TYPE_CONTROL; continue; }
        if (id < 3 + 256) {
            tokens[id] = `<0x${(id - 3).toString(16).toUpperCase().padStart(2, '0')}>`;
            types[id] = TYPE_BYTE;
            continue;
        }
        tokens[id] = `t${id}`;
        types[id] = TYPE_NORMAL;
        scores[id] = -(id - 259);
    }
    return spmTokenizerMetadata(tokens, scores, types);
}

/**
 * Parses llama2.c's tokenizer.bin (run.c's build_tokenizer: u32 max_token_length, then per token
 * f32 score, i32 length, bytes; the token count is the checkpoint's vocab_size) into a llama
 * (SentencePiece) vocabulary as llama.cpp's convert-llama2c-to-ggml makes it: ids 0/1/2 are
 * <unk>/<s>/</s>, "<0xXX>" tokens are bytes, an empty text is a control token, and spaces become
 * U+2581 (llama2.c's exporter had turned U+2581 into spaces).
 * @param {Uint8Array} bytes whole file @param {number} n_vocab
 * @returns {Array<[string, import('./gguf-writer.js').GgufValue | string | boolean]>} tokenizer.* entries
 */
export function parseLlama2cTokenizer(bytes, n_vocab) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 4) throw new Error('llama2c tokenizer: file shorter than its 4-byte header');
    const tokens = new Array(n_vocab);
    const scores = new Float32Array(n_vocab);
    const types = new Int32Array(n_vocab);
    const dec = new TextDecoder('utf-8', { fatal: false });
    const TYPE_NORMAL = 1, TYPE_UNKNOWN = 2, TYPE_CONTROL = 3, TYPE_BYTE = 6;
    let pos = 4;
    for (let id = 0; id < n_vocab; id++) {
        if (pos + 8 > bytes.length) throw new Error(`llama2c tokenizer: truncated at token ${id} of ${n_vocab} (a tokenizer for a smaller vocabulary?)`);
        scores[id] = dv.getFloat32(pos, true);
        const len = dv.getInt32(pos + 4, true);
        pos += 8;
        if (len < 0 || pos + len > bytes.length) throw new Error(`llama2c tokenizer: token ${id} has a bad length ${len}`);
        let text = dec.decode(bytes.subarray(pos, pos + len));
        pos += len;
        let type = TYPE_NORMAL;
        if (id === 0) { text = '<unk>'; type = TYPE_UNKNOWN; }
        else if (id === 1) { text = '<s>'; type = TYPE_CONTROL; }
        else if (id === 2) { text = '</s>'; type = TYPE_CONTROL; }
        else if (text === '') type = TYPE_CONTROL;
        else if (/^<0x[0-9A-Fa-f]{1,2}/.test(text)) type = TYPE_BYTE;
        tokens[id] = type === TYPE_BYTE ? text : text.replaceAll(' ', '\u2581');
        types[id] = type;
    }
    if (pos !== bytes.length) throw new Error(`llama2c tokenizer: ${bytes.length - pos} bytes after ${n_vocab} tokens (a tokenizer for a larger vocabulary?)`);
    return spmTokenizerMetadata(tokens, scores, types);
}

/**
 * Builds the GGUF content for a parsed checkpoint.
 * @param {ReturnType<typeof parseLlama2c>} parsed
 * @param {{weightType?: 'F32' | 'F16', name?: string,
 *   vocab?: Array<[string, import('./gguf-writer.js').GgufValue | string | boolean]>}} [opts]
 *   2-D weights as F32 (default) or F16 (norm weights stay F32); vocab: tokenizer.* entries
 *   (parseLlama2cTokenizer), else a minimal placeholder vocabulary
 * @returns {import('./gguf-writer.js').GgufContent}
 */
export function llama2cToGgufContent(parsed, opts = {}) {
    const { config: c, tensors } = parsed;
    const wtype = opts.weightType === 'F16' ? GGML_TYPE.F16 : GGML_TYPE.F32;
    if (opts.weightType && opts.weightType !== 'F16' && opts.weightType !== 'F32') {
        throw new TypeError(`llama2c: weightType ${opts.weightType} not supported (F32 or F16)`);
    }
    /** @param {string} src */
    const get = (src) => {
        const t = tensors.get(src);
        if (!t) throw new Error(`llama2c: missing ${src}`);
        return t;
    };
    /** @param {Uint8Array} b */
    const asFloats = (b) => {
        const copy = b.slice(); // own buffer: aligned for Float32Array
        return new Float32Array(copy.buffer, 0, copy.length / 4);
    };
    /** @type {import('./gguf-writer.js').GgufTensor[]} */
    const out = [];
    /** @param {string} name @param {string} src @param {boolean} matrix */
    const add = (name, src, matrix) => {
        const t = get(src);
        const dims = [...t.shape].reverse(); // ggml ne: innermost first
        const type = matrix ? wtype : GGML_TYPE.F32;
        const data = type === GGML_TYPE.F32 ? () => t.bytes : () => encodeFloats(asFloats(t.bytes), type);
        out.push({ name, type, dims, data });
    };

    add('token_embd.weight', 'token_embedding_table', true);
    add('output_norm.weight', 'rms_final_weight', false);
    if (!c.shared_classifier) add('output.weight', 'wcls', true);
    for (let l = 0; l < c.n_layers; l++) {
        const b = `blk.${l}`;
        add(`${b}.attn_norm.weight`, `rms_att_weight.${l}`, false);
        add(`${b}.attn_q.weight`, `wq.${l}`, true);
        add(`${b}.attn_k.weight`, `wk.${l}`, true);
        add(`${b}.attn_v.weight`, `wv.${l}`, true);
        add(`${b}.attn_output.weight`, `wo.${l}`, true);
        add(`${b}.ffn_norm.weight`, `rms_ffn_weight.${l}`, false);
        add(`${b}.ffn_gate.weight`, `w1.${l}`, true);
        add(`${b}.ffn_down.weight`, `w2.${l}`, true);
        add(`${b}.ffn_up.weight`, `w3.${l}`, true);
    }

    const metadata = [
        ['general.architecture', 'llama'],
        ['general.name', opts.name ?? 'llama2c'],
        ['general.file_type', u32(wtype === GGML_TYPE.F16 ? 1 : 0)],
        ['llama.context_length', u32(c.seq_len)],
        ['llama.embedding_length', u32(c.dim)],
        ['llama.block_count', u32(c.n_layers)],
        ['llama.feed_forward_length', u32(c.hidden_dim)],
        ['llama.attention.head_count', u32(c.n_heads)],
        ['llama.attention.head_count_kv', u32(c.n_kv_heads)],
        ['llama.rope.dimension_count', u32(c.dim / c.n_heads)],
        ['llama.attention.layer_norm_rms_epsilon', f32(1e-5)],
        ['llama.rope.freq_base', f32(10000)],
        ['llama.vocab_size', u32(c.vocab_size)],
        ...(opts.vocab ?? minimalLlamaVocab(c.vocab_size)),
    ];
    return { metadata: /** @type {any} */ (metadata), tensors: out };
}

/**
 * Converts a llama2.c checkpoint file to a GGUF file.
 * @param {string} inPath llama2.c .bin
 * @param {string} outPath destination .gguf (written atomically)
 * @param {{weightType?: 'F32' | 'F16', name?: string}} [opts]
 * @returns {Promise<{config: Llama2cConfig, bytes: number}>}
 */
export async function convertLlama2cFile(inPath, outPath, opts = {}) {
    const buf = await readFile(inPath);
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const parsed = parseLlama2c(bytes);
    const { bytes: n } = await writeGguf(outPath, llama2cToGgufContent(parsed, opts));
    return { config: parsed.config, bytes: n };
}
