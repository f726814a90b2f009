// options.js — checks the options of load() and generate() before anything is sent to the engine:
// an unknown name or a nonsense value is a TypeError/RangeError naming the option, at the call site.

/**
 * @typedef {object} GenerateOptions
 * @property {number} [maxTokens] tokens to generate at most (default 256)
 * @property {number} [temperature] 0 = greedy (default)
 * @property {number} [topK] @property {number} [topP] @property {number} [minP]
 * @property {number} [repeatPenalty] @property {number} [frequencyPenalty] @property {number} [presencePenalty]
 * @property {number} [penaltyLastN] @property {number} [seed] default: a random seed, reported in metrics
 * @property {string[]} [stop] stop strings (never emitted)
 * @property {number[]} [stopTokens] token ids that end the generation like EOS (never emitted)
 * @property {Record<number, number> | Map<number, number> | [number, number][]} [logitBias] added to
 *   those tokens' logits before sampling; -Infinity bans a token
 * @property {'f16' | 'f32'} [kvType] KV cache elements (default f16; f32 is exact and twice the size)
 * @property {number} [maxDurationMs] end with a TimeoutError after this long
 * @property {boolean} [ignoreEos] keep going past end-of-generation tokens
 * @property {boolean} [addSpecial] add BOS as the model asks (default true for text prompts)
 * @property {boolean} [parseSpecial] turn special-token text in the prompt into tokens (default true)
 * @property {number} [contextSize] the KV cache size in tokens (default min(training context, 4096))
 * @property {number} [batchSize] prompt tokens per forward pass (default 64)
 * @property {AbortSignal} [signal]
 * @property {(m: import('./generation.js').GenerationMetrics) => void} [onMetrics]
 */

/** name → [kind, min, max]; kind 'int' | 'num' | 'bool' */
const NUMERIC = /** @type {const} */ ({
  maxTokens: ['int', 1, 2 ** 31 - 1],
  temperature: ['num', 0, 1e6],
  topK: ['int', 0, 2 ** 31 - 1],
  topP: ['num', 0, 1],
  minP: ['num', 0, 1],
  repeatPenalty: ['num', 0, 1e6],
  frequencyPenalty: ['num', -1e6, 1e6],
  presencePenalty: ['num', -1e6, 1e6],
  penaltyLastN: ['int', -1, 2 ** 31 - 1],
  seed: ['int', 0, 2 ** 32 - 1],
  maxDurationMs: ['num', 0, Number.MAX_SAFE_INTEGER],
  contextSize: ['int', 1, 2 ** 31 - 1],
  batchSize: ['int', 1, 2 ** 31 - 1],
});
const BOOLEAN = ['ignoreEos', 'addSpecial', 'parseSpecial'];
const CLIENT_ONLY = ['signal', 'onMetrics', 'stop', 'stopTokens', 'logitBias', 'kvType'];

/**
 * @param {any} value @param {string} name @param {'int' | 'num'} kind @param {number} min @param {number} max
 */
function checkNumber(value, name, kind, min, max) {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`option '${name}' must be a number, got ${describe(value)}`);
  if (kind === 'int' && !Number.isInteger(value)) throw new TypeError(`option '${name}' must be an integer, got ${value}`);
  if (value < min || value > max) throw new RangeError(`option '${name}' must be in [${min}, ${max}], got ${value}`);
}

/** @param {unknown} v */
function describe(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `'${v}'` : typeof v;
}

/**
 * @param {GenerateOptions | undefined} opts
 * @returns {{wire: Record<string, any>, signal?: AbortSignal, onMetrics?: Function}} wire: what the engine host gets
 */
export function checkGenerateOptions(opts = {}) {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`generate options must be an object, got ${describe(opts)}`);
  /** @type {Record<string, any>} */
  const wire = {};
  for (const [name, value] of Object.entries(opts)) {
    if (value === undefined) continue;
    const spec = /** @type {Record<string, readonly [string, number, number]>} */ (NUMERIC)[name];
    if (spec) {
      checkNumber(value, name, /** @type {'int' | 'num'} */ (spec[0]), spec[1], spec[2]);
      wire[name] = value;
    } else if (BOOLEAN.includes(name)) {
      if (typeof value !== 'boolean') throw new TypeError(`option '${name}' must be true or false, got ${describe(value)}`);
      wire[name] = value;
    } else if (!CLIENT_ONLY.includes(name)) {
      throw new TypeError(`unknown option '${name}' (known: ${[...Object.keys(NUMERIC), ...BOOLEAN, ...CLIENT_ONLY].join(', ')})`);
    }
  }
  if (opts.stop !== undefined) {
    const stop = typeof opts.stop === 'string' ? [opts.stop] : opts.stop;
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string' || s === '')) {
      throw new TypeError("option 'stop' must be a non-empty string or an array of non-empty strings");
    }
    wire.stop = [...stop];
  }
  if (opts.logitBias !== undefined) wire.logitBias = checkLogitBias(opts.logitBias);
  if (opts.kvType !== undefined) {
    if (opts.kvType !== 'f16' && opts.kvType !== 'f32') throw new TypeError(`option 'kvType' must be 'f16' or 'f32', got ${describe(opts.kvType)}`);
    wire.kvType = opts.kvType;
  }
  if (opts.stopTokens !== undefined) {
    if (!Array.isArray(opts.stopTokens) || opts.stopTokens.some((t) => !Number.isInteger(t) || t < 0 || t > 2 ** 31 - 1)) {
      throw new TypeError("option 'stopTokens' must be an array of token ids (non-negative integers)");
    }
    wire.stopTokens = [...opts.stopTokens];
  }
  if (opts.signal !== undefined && !(opts.signal && typeof opts.signal.aborted === 'boolean' && typeof opts.signal.addEventListener === 'function')) {
    throw new TypeError("option 'signal' must be an AbortSignal");
  }
  if (opts.onMetrics !== undefined && typeof opts.onMetrics !== 'function') throw new TypeError("option 'onMetrics' must be a function");
  if (wire.contextSize !== undefined && wire.batchSize !== undefined && wire.batchSize > wire.contextSize) {
    throw new RangeError(`option 'batchSize' (${wire.batchSize}) cannot exceed 'contextSize' (${wire.contextSize})`);
  }
  return { wire, signal: opts.signal, onMetrics: opts.onMetrics };
}

/**
 * Logit bias as [id, value] pairs: from {id: value}, a Map or pairs. A value may be -Infinity (the
 * token is never picked); NaN and +Infinity are refused.
 * @param {unknown} b @returns {[number, number][]}
 */
export function checkLogitBias(b) {
  /** @type {[unknown, unknown][]} */
  let pairs;
  if (b instanceof Map) pairs = [...b.entries()];
  else if (Array.isArray(b)) pairs = b.map((p) => (Array.isArray(p) && p.length === 2 ? /** @type {[unknown, unknown]} */ (p) : [NaN, NaN]));
  else if (b && typeof b === 'object') pairs = Object.entries(b);
  else throw new TypeError("option 'logitBias' must be an object {tokenId: bias}, a Map or [tokenId, bias] pairs");
  return pairs.map(([k, v]) => {
    const id = Number(k);
    if (!Number.isInteger(id) || id < 0 || id > 2 ** 31 - 1) throw new TypeError(`option 'logitBias': '${String(k)}' is not a token id`);
    if (typeof v !== 'number' || Number.isNaN(v) || v === Infinity) throw new TypeError(`option 'logitBias': the bias of token ${id} must be a finite number or -Infinity, got ${describe(v)}`);
    return /** @type {[number, number]} */ ([id, v]);
  });
}

const LOAD_OPTIONS = ['onProgress', 'signal', 'threads', 'cache', 'worker', 'assetsBase', 'wasmModule', 'headers', 'relaxedSimd'];

/**
 * @param {Record<string, any> | undefined} opts
 */
export function checkLoadOptions(opts = {}) {
  if (opts === null || typeof opts !== 'object') throw new TypeError(`load options must be an object, got ${describe(opts)}`);
  for (const name of Object.keys(opts)) {
    if (!LOAD_OPTIONS.includes(name)) throw new TypeError(`unknown load option '${name}' (known: ${LOAD_OPTIONS.join(', ')})`);
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new TypeError("load option 'onProgress' must be a function");
  if (opts.threads !== undefined) checkNumber(opts.threads, 'threads', 'int', 1, 256);
  if (opts.cache !== undefined && typeof opts.cache !== 'boolean' && opts.cache !== 'reload') {
    throw new TypeError("load option 'cache' must be true, false or 'reload'");
  }
  if (opts.worker !== undefined && typeof opts.worker !== 'boolean') throw new TypeError("load option 'worker' must be true or false");
  if (opts.relaxedSimd !== undefined && typeof opts.relaxedSimd !== 'boolean') throw new TypeError("load option 'relaxedSimd' must be true or false");
  if (opts.signal !== undefined && typeof opts.signal?.aborted !== 'boolean') throw new TypeError("load option 'signal' must be an AbortSignal");
  return opts;
}
