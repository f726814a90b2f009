// index.js — the converters' API (Node only), for `smallmind convert` and for scripts.
//
//   convertModel(input, output, opts?) → Promise<ConvertResult>
//       One call for every conversion: the input's format is found from its bytes (GGUF, SMND, a
//       JSON checkpoint, else a llama2.c checkpoint), the output's from its extension (.gguf,
//       .smnd) or opts.to. Options:
//         to            'gguf' | 'smnd' (default: from the output's extension)
//         from          'gguf' | 'smnd' | 'llama2c' | 'json' (default: detected)
//         tokenizer     path of a llama2.c tokenizer.bin (llama2c input only; without it the
//                       model gets a placeholder vocabulary, as llama2c.js always did)
//         quantize      'Q8_0' | 'Q4_0' | 'Q4_K' | 'Q6_K' | 'F16' | 'BF16' | 'F32': every weight
//                       matrix stored as F32/F16/BF16 becomes this type (quantize.js)
//         weightType    'F32' | 'F16' for llama2c input's matrices (default F32)
//         name          general.name for llama2c input
//         smndVersion   1, 2, or 0 (default): the lowest version that holds the content
//         overwrite     replace an existing output file (never the input itself); default false
//         onProgress    ({done, total}) => void: bytes written and the output's final size
//         signal        AbortSignal: stops between pieces; the partial output is removed
//         assetsBase    the WASM build's directory (default: the package's own)
//       The output is written to a temporary sibling and renamed when complete, so an interrupted
//       conversion leaves no file under the output's name. Errors are SmallMindError (code
//       'SM_ERR_FORMAT', 'SM_ERR_CORRUPT', 'SM_ERR_VERSION', 'SM_ERR_UNSUPPORTED',
//       'SM_ERR_INVALID_ARG': same file, existing output, bad option) or Node's fs errors
//       (code 'ENOENT', 'EISDIR', ...), each with a one-line message.
//       Result: {input, output, from, to, bytes, version (SMND), tensors, quantized, kept}.
//
//   convert(input, output, opts?) → Promise<ConvertResult>
//       The CLI's entry point (bindings/js/cli/convert.js): convertModel with `type`, the weight
//       type of the output's matrices ('F32' | 'F16' for a llama2c input's weights, else a quantize
//       target), and `overwrite` defaulting to true, because the CLI checks --force itself before
//       calling. The input is still never overwritten.
//
//   readModel(src, {from?, tokenizer?, weightType?, name?}) → Promise<{format, content, close()}>
//       Any input format as ModelContent (gguf-reader.js): typed key/values in file order and
//       tensors whose data() reads their bytes when asked. close() releases the file.
//   writeModel(path, content, {to, smndVersion?, provenance?, onProgress?, signal?}) → {bytes, version?}
//   quantizeContent(content, {type}) → {content, converted, kept}          (quantize.js)
//   readGguf(input) / readSmnd(input), writeGguf / writeSmnd / encodeSmnd, encodeGguf,
//   encodeSmndMetadata / decodeSmndMetadata, parseLlama2c / parseLlama2cTokenizer,
//   readLegacyJson / legacyJsonContent, openInput                           (the building blocks)
//
// Round trips are lossless where the types allow: GGUF → SMND → GGUF gives back every key/value
// (order, type, value) and every tensor byte; an SMND model computes bit-identical logits to the
// GGUF it came from (tests/js/convert.test.js).

import { readFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import { SmallMindError, SM_ERR_INVALID_ARG } from '../errors.js';
import { openInput } from './file.js';
import { readGguf } from './gguf-reader.js';
import { encodeGguf, ggmlTensorBytes, writeGguf } from './gguf-writer.js';
import { readLegacyJson, legacyJsonContent } from './legacy-json.js';
import { llama2cToGgufContent, parseLlama2c, parseLlama2cTokenizer } from './llama2c.js';
import { QUANT_TARGETS, quantizeContent } from './quantize.js';
import { decodeSmndMetadata, encodeSmnd, encodeSmndMetadata, isSmnd, readSmnd, writeSmnd } from './smnd.js';

export {
  readGguf, readSmnd, writeGguf, writeSmnd, encodeGguf, encodeSmnd, encodeSmndMetadata, decodeSmndMetadata,
  parseLlama2c, parseLlama2cTokenizer, readLegacyJson, legacyJsonContent, quantizeContent, openInput, QUANT_TARGETS,
};

const VERSION = '0.1.0';

/** @typedef {'gguf' | 'smnd' | 'llama2c' | 'json'} InputFormat */

/** @param {string} msg */
const invalid = (msg) => new SmallMindError(msg, SM_ERR_INVALID_ARG);

/**
 * @param {Uint8Array} head the first bytes @param {string} name
 * @returns {InputFormat}
 */
function detect(head, name) {
  if (head.length >= 4 && String.fromCharCode(...head.subarray(0, 4)) === 'GGUF') return 'gguf';
  if (isSmnd(head)) return 'smnd';
  const text = new TextDecoder().decode(head.subarray(0, 64)).trimStart();
  if (text.startsWith('{')) return 'json';
  if (head.length >= 28) return 'llama2c';
  throw invalid(`${name}: not a model file this converter knows (GGUF, SMND, JSON checkpoint, llama2.c checkpoint)`);
}

/** Wraps GgufContent (llama2c.js) as ModelContent. @param {import('./gguf-writer.js').GgufContent} c */
function fromGgufContent(c) {
  const meta = c.metadata instanceof Map ? [...c.metadata] : c.metadata;
  return {
    metadata: meta.map(([k, v]) => /** @type {[string, any]} */ ([k, typeof v === 'string' ? { type: 8, value: v } : typeof v === 'boolean' ? { type: 7, value: v } : v])),
    tensors: c.tensors.map((t) => ({
      name: t.name, type: t.type, dims: t.dims, nBytes: ggmlTensorBytes(t.type, t.dims),
      data: async () => (typeof t.data === 'function' ? t.data() : t.data),
    })),
  };
}

/**
 * Opens any model file as ModelContent.
 * @param {string | Uint8Array} src
 * @param {{from?: InputFormat, tokenizer?: string, weightType?: 'F32' | 'F16', name?: string}} [opts]
 * @returns {Promise<{format: InputFormat, version?: number, content: import('./gguf-reader.js').ModelContent,
 *   close: () => Promise<void>}>}
 */
export async function readModel(src, opts = {}) {
  const input = await openInput(src);
  try {
    const format = opts.from ?? detect(await input.read(0, 64), input.name);
    if (opts.tokenizer && format !== 'llama2c') throw invalid('a tokenizer file only goes with a llama2.c checkpoint');
    if (format === 'gguf' || format === 'smnd') {
      const r = format === 'gguf' ? await readGguf(input) : await readSmnd(input);
      return { format, version: r.version, content: r, close: () => input.close() };
    }
    await input.close();
    if (format === 'json') return { format, content: await readLegacyJson(src), close: async () => {} };
    if (format !== 'llama2c') throw invalid(`unknown input format '${format}'`);
    const bytes = typeof src === 'string' ? new Uint8Array(await readFile(src)) : src;
    const parsed = parseLlama2c(bytes);
    const vocab = opts.tokenizer
      ? parseLlama2cTokenizer(new Uint8Array(await readFile(opts.tokenizer)), parsed.config.vocab_size)
      : undefined;
    const name = opts.name ?? (typeof src === 'string' ? basename(src, extname(src)) : undefined);
    return { format, content: fromGgufContent(llama2cToGgufContent(parsed, { weightType: opts.weightType, name, vocab })), close: async () => {} };
  } catch (e) {
    await input.close().catch(() => {});
    throw e;
  }
}

/**
 * Writes ModelContent as GGUF or SMND (atomically).
 * @param {string} path
 * @param {import('./gguf-reader.js').ModelContent} content
 * @param {{to: 'gguf' | 'smnd', smndVersion?: number, provenance?: Record<string, unknown>,
 *   onProgress?: (p: {done: number, total: number}) => void, signal?: AbortSignal,
 *   assetsBase?: string | URL}} opts
 * @returns {Promise<{bytes: number, version?: number}>}
 */
export async function writeModel(path, content, opts) {
  if (opts.to === 'gguf') {
    return writeGguf(path, /** @type {any} */ (content), { onProgress: opts.onProgress, signal: opts.signal });
  }
  if (opts.to === 'smnd') {
    return writeSmnd(path, content, {
      version: opts.smndVersion, provenance: opts.provenance, onProgress: opts.onProgress, signal: opts.signal,
      assetsBase: opts.assetsBase,
    });
  }
  throw invalid(`unknown output format '${opts.to}' (use 'gguf' or 'smnd')`);
}

/** @param {string} path @returns {Promise<import('node:fs').Stats | null>} */
async function statOrNull(path) {
  try {
    return await stat(path);
  } catch (e) {
    if (/** @type {any} */ (e).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * @typedef {object} ConvertOptions
 * @property {'gguf' | 'smnd'} [to]
 * @property {InputFormat} [from]
 * @property {string} [tokenizer]
 * @property {string} [quantize]
 * @property {'F32' | 'F16'} [weightType]
 * @property {string} [name]
 * @property {number} [smndVersion]
 * @property {boolean} [overwrite]
 * @property {(p: {done: number, total: number}) => void} [onProgress]
 * @property {AbortSignal} [signal]
 * @property {string | URL} [assetsBase]
 */

/**
 * @typedef {object} ConvertResult
 * @property {string} input
 * @property {string} output
 * @property {InputFormat} from
 * @property {'gguf' | 'smnd'} to
 * @property {number} bytes      the output's size
 * @property {number} [version]  the SMND version written
 * @property {number} tensors
 * @property {string[]} quantized  tensors converted by opts.quantize
 * @property {{name: string, reason: string}[]} kept  tensors opts.quantize left as they were
 */

/**
 * Converts a model file (see the top of this file).
 * @param {string} input @param {string} output @param {ConvertOptions} [opts]
 * @returns {Promise<ConvertResult>}
 */
export async function convertModel(input, output, opts = {}) {
  const ext = extname(output).toLowerCase();
  const to = opts.to ?? (ext === '.gguf' ? 'gguf' : ext === '.smnd' ? 'smnd' : undefined);
  if (to !== 'gguf' && to !== 'smnd') throw invalid(`cannot tell the output format from '${output}': name it .gguf or .smnd, or pass to`);
  if (opts.quantize && !(String(opts.quantize).toUpperCase() in QUANT_TARGETS)) {
    throw invalid(`cannot quantize to '${opts.quantize}': use one of ${Object.keys(QUANT_TARGETS).join(', ')}`);
  }
  const [sin, sout] = [await stat(input), await statOrNull(output)];
  if (sin.isDirectory()) throw Object.assign(new Error(`${input} is a directory, not a model file`), { code: 'EISDIR' });
  if (sout && sout.dev === sin.dev && sout.ino === sin.ino) throw invalid(`the output ${output} is the input: a converter never overwrites its input`);
  if (sout && !opts.overwrite) throw invalid(`${output} already exists (pass overwrite to replace it)`);
  if (sout?.isDirectory()) throw invalid(`${output} is a directory`);
  const model = await readModel(input, opts);
  try {
    let content = model.content;
    /** @type {string[]} */
    let quantized = [];
    /** @type {{name: string, reason: string}[]} */
    let kept = [];
    if (opts.quantize) {
      const q = await quantizeContent(content, { type: opts.quantize, assetsBase: opts.assetsBase });
      ({ content, converted: quantized, kept } = q);
    }
    /** @type {Record<string, unknown>} */
    const provenance = {
      ...(model.format === 'smnd' && content.provenance ? { previous: content.provenance } : {}),
      tool: `smallmind ${VERSION}`,
      converter: opts.quantize ? 'requantize' : `${model.format}-to-${to}`,
      source_format: model.format,
      source: basename(input),
      source_bytes: sin.size,
      ...(opts.quantize ? { quantized_to: String(opts.quantize).toUpperCase() } : {}),
    };
    const r = await writeModel(output, content, { ...opts, to, provenance });
    return {
      input, output, from: model.format, to, bytes: r.bytes, version: r.version,
      tensors: content.tensors.length, quantized, kept,
    };
  } finally {
    await model.close();
  }
}

/**
 * The CLI's entry point (see the top of this file).
 * @param {string} input @param {string} output
 * @param {ConvertOptions & {type?: string}} [opts]
 * @returns {Promise<ConvertResult>}
 */
export async function convert(input, output, opts = {}) {
  const { type, ...rest } = opts;
  const t = type?.toUpperCase();
  /** @type {ConvertOptions} */
  const o = { overwrite: true, ...rest };
  if (t) {
    const from = rest.from ?? detect(await readHead(input), input);
    if (from === 'llama2c' && (t === 'F32' || t === 'F16')) o.weightType = t;
    else o.quantize = t;
  }
  return convertModel(input, output, o);
}

/** @param {string} path @returns {Promise<Uint8Array>} the first 64 bytes */
async function readHead(path) {
  const input = await openInput(path);
  try {
    return await input.read(0, 64);
  } finally {
    await input.close();
  }
}
