// cli/gen-flags.js — the generation flags `generate` and `chat` share: their parseArgs specs, their
// --help lines, and their values as checked numbers.

import { intFlag, numFlag } from './args.js';
import { UsageError } from './errors.js';

/** The sampler seed when none is given: runs repeat unless asked otherwise. */
export const DEFAULT_SEED = 0x5eed;

/** @type {import('./args.js').FlagSpecs} */
export const GEN_FLAGS = {
  'max-tokens': { type: 'string' }, temperature: { type: 'string' }, seed: { type: 'string' },
  'top-k': { type: 'string' }, 'top-p': { type: 'string' }, 'min-p': { type: 'string' },
  'repeat-penalty': { type: 'string' }, 'frequency-penalty': { type: 'string' },
  'presence-penalty': { type: 'string' }, 'penalty-last-n': { type: 'string' },
  'ignore-eos': { type: 'boolean' }, stop: { type: 'string', multiple: true },
  'max-duration-ms': { type: 'string' }, threads: { type: 'string' }, ctx: { type: 'string' },
  batch: { type: 'string' },
};

/** @param {number} maxTokens the command's default */
export const genFlagsHelp = (maxTokens) => `generation:
  --max-tokens N       tokens to generate at most (default ${maxTokens})
  --temperature T      0 = greedy (default 0)
  --seed S             sampler seed (default ${DEFAULT_SEED}: runs repeat exactly)
  --top-k K            keep the K most likely tokens (default 0 = off)
  --top-p P            nucleus sampling, P in [0, 1] (default 1 = off)
  --min-p P            keep tokens with p >= P * p_max (default 0 = off)
  --repeat-penalty R, --frequency-penalty F, --presence-penalty P
                       penalties over the last --penalty-last-n tokens (default 64; off by default)
  --stop TEXT          stop when TEXT appears (never printed); repeat for several
  --max-duration-ms MS stop generating after this long
  --ignore-eos         keep generating past end-of-generation tokens
  --threads N          engine threads (default 1; N > 1 uses the threaded WASM build)
  --ctx N              context window (default: min(training context, 4096))
  --batch N            prompt tokens per forward pass (default 64)`;

/**
 * @typedef {object} GenSettings
 * @property {number} maxTokens @property {number} temperature @property {number} seed
 * @property {number | undefined} topK @property {number | undefined} topP @property {number | undefined} minP
 * @property {number | undefined} repeatPenalty @property {number | undefined} frequencyPenalty
 * @property {number | undefined} presencePenalty @property {number | undefined} penaltyLastN
 * @property {boolean} ignoreEos @property {string[]} stop @property {number | undefined} maxDurationMs
 * @property {number} threads @property {number | undefined} contextSize @property {number | undefined} batchSize
 */

/**
 * @param {Record<string, any>} v parsed flags
 * @param {{maxTokens: number, minMaxTokens?: number}} defaults
 * @returns {GenSettings}
 */
export function genSettings(v, defaults) {
  const temperature = v.temperature === undefined ? 0 : Number(v.temperature);
  if (String(v.temperature ?? '0').trim() === '' || !Number.isFinite(temperature) || temperature < 0) {
    throw new UsageError(`--temperature must be a number >= 0, got '${v.temperature}'`);
  }
  const stop = /** @type {string[]} */ (v.stop ?? []);
  if (stop.some((s) => s === '')) throw new UsageError('--stop needs a non-empty text');
  const maxDurationMs = numFlag(v, 'max-duration-ms');
  if (maxDurationMs !== undefined && maxDurationMs <= 0) throw new UsageError(`--max-duration-ms must be > 0, got '${v['max-duration-ms']}'`);
  const intOrUndef = (/** @type {string} */ name) => (v[name] === undefined ? undefined : intFlag(v, name, 0, 1));
  return {
    maxTokens: intFlag(v, 'max-tokens', defaults.maxTokens, defaults.minMaxTokens ?? 0),
    temperature,
    seed: intFlag(v, 'seed', DEFAULT_SEED, 0, 2 ** 32 - 1),
    topK: numFlag(v, 'top-k'), topP: numFlag(v, 'top-p'), minP: numFlag(v, 'min-p'),
    repeatPenalty: numFlag(v, 'repeat-penalty'), frequencyPenalty: numFlag(v, 'frequency-penalty'),
    presencePenalty: numFlag(v, 'presence-penalty'), penaltyLastN: numFlag(v, 'penalty-last-n'),
    ignoreEos: !!v['ignore-eos'],
    stop,
    maxDurationMs,
    threads: intFlag(v, 'threads', 1, 1, 256),
    contextSize: intOrUndef('ctx'),
    batchSize: intOrUndef('batch'),
  };
}

/**
 * The settings as generate()/chat() options of the public API.
 * @param {GenSettings} s @param {AbortSignal} [signal]
 * @returns {import('../options.js').GenerateOptions}
 */
export function apiOptions(s, signal) {
  /** @type {Record<string, any>} */
  const o = {
    maxTokens: s.maxTokens, temperature: s.temperature, seed: s.seed, topK: s.topK, topP: s.topP, minP: s.minP,
    repeatPenalty: s.repeatPenalty, frequencyPenalty: s.frequencyPenalty, presencePenalty: s.presencePenalty,
    penaltyLastN: s.penaltyLastN, ignoreEos: s.ignoreEos || undefined, stop: s.stop.length ? s.stop : undefined,
    maxDurationMs: s.maxDurationMs, contextSize: s.contextSize, batchSize: s.batchSize, signal,
  };
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}
