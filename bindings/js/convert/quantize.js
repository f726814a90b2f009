// quantize.js — re-quantization of model content: every weight matrix stored as F32, F16 or BF16 is
// converted to one target type (Q8_0, Q4_0, Q4_K, Q6_K, or F16/F32/BF16) by the engine's reference
// quantizers through WASM (sm_type_convert), row blocks at a time, when a writer reaches it.
// Like llama.cpp's `llama-quantize --pure`: one type for all matrices; 1-D tensors (norms, biases,
// RoPE factors) and optimizer state (optim.*) stay as they are. Not a quantization search: the
// K-quants are round-to-nearest (src/kern/quant_k_quantize_ref.c).

import { SmallMindError, SM_ERR_INVALID_ARG, SM_ERR_UNSUPPORTED } from '../errors.js';
import { GGML_BLOCK, GGML_TYPE, GGUF_TYPE, ggmlTensorBytes } from './gguf-writer.js';
import { convertModule, typeConvert } from './wasm.js';

/** Target types and llama.cpp's general.file_type for a model mostly of that type. */
export const QUANT_TARGETS = Object.freeze({ F32: 0, F16: 1, BF16: 32, Q4_0: 2, Q8_0: 7, Q4_K: 14, Q6_K: 18 });

const FLOATS = new Set([GGML_TYPE.F32, GGML_TYPE.F16, GGML_TYPE.BF16]);
const CHUNK_BYTES = 16 << 20;

/**
 * @param {import('./gguf-reader.js').ModelContent} content
 * @param {{type: keyof typeof QUANT_TARGETS | string, assetsBase?: string | URL, module?: any}} opts
 * @returns {Promise<{content: import('./gguf-reader.js').ModelContent, converted: string[],
 *   kept: {name: string, reason: string}[]}>} the new content (data converted when read), and
 *   which tensors were converted or kept (and why)
 */
export async function quantizeContent(content, opts) {
  const target = /** @type {keyof typeof QUANT_TARGETS} */ (String(opts.type).toUpperCase());
  if (!(target in QUANT_TARGETS)) {
    throw new SmallMindError(`cannot quantize to '${opts.type}': use one of ${Object.keys(QUANT_TARGETS).join(', ')}`, SM_ERR_INVALID_ARG);
  }
  const dst = GGML_TYPE[target];
  const block = GGML_BLOCK[dst].blck;
  const m = await convertModule(opts);
  /** @type {string[]} */
  const converted = [];
  /** @type {{name: string, reason: string}[]} */
  const kept = [];
  const tensors = content.tensors.map((t) => {
    const keep = (/** @type {string} */ reason) => { kept.push({ name: t.name, reason }); return t; };
    if (t.name.startsWith('optim.')) return keep('optimizer state');
    if (t.dims.length < 2 || t.dims.slice(1).every((d) => d === 1)) return keep('not a matrix');
    if (t.type === dst) return keep(`already ${target}`);
    if (!FLOATS.has(t.type)) {
      throw new SmallMindError(`tensor '${t.name}' is ${GGML_BLOCK[t.type]?.name ?? t.type}: re-quantization starts from F32, F16 or BF16 weights`, SM_ERR_UNSUPPORTED);
    }
    if (t.dims[0] % block !== 0) return keep(`rows of ${t.dims[0]} are not a whole number of ${target} blocks (${block})`);
    converted.push(t.name);
    const rowIn = ggmlTensorBytes(t.type, [t.dims[0]]);
    const rowOut = ggmlTensorBytes(dst, [t.dims[0]]);
    const rows = t.nBytes / rowIn;
    const nBytes = rows * rowOut;
    return {
      name: t.name, type: dst, dims: t.dims, nBytes,
      data: async () => {
        const src = await t.data();
        const out = new Uint8Array(nBytes);
        const step = Math.max(1, Math.floor(CHUNK_BYTES / rowIn));
        for (let r = 0; r < rows; r += step) {
          const k = Math.min(step, rows - r);
          out.set(typeConvert(m, t.type, src.subarray(r * rowIn, (r + k) * rowIn), dst, k * t.dims[0], k * rowOut), r * rowOut);
        }
        return out;
      },
    };
  });
  const metadata = content.metadata.filter(([k]) => k !== 'general.file_type');
  const at = content.metadata.findIndex(([k]) => k === 'general.file_type');
  const ft = /** @type {[string, import('./gguf-writer.js').GgufValue]} */ (['general.file_type', { type: GGUF_TYPE.UINT32, value: QUANT_TARGETS[target] }]);
  if (at >= 0) metadata.splice(at, 0, ft);
  else {
    const after = Math.max(metadata.findIndex(([k]) => k === 'general.name'), metadata.findIndex(([k]) => k === 'general.architecture'));
    metadata.splice(after + 1, 0, ft);
  }
  return { content: { ...content, metadata, tensors }, converted, kept };
}
