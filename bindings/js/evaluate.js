// evaluate.js — perplexity and a health check, run in the engine host.
//
// evaluateText scores a text the way a language-model evaluation does: cross-entropy (nats per
// token) of each token given the ones before it, over sliding windows of `contextSize` tokens
// that advance by `stride`; every token after the first is scored exactly once, by the first
// window that contains it with at least one token of history, so a long text gets up to
// contextSize - stride tokens of context everywhere. Each window starts from an empty KV cache.
// healthCheck runs one short forward pass and reports what it saw.

import { AbortError, SmallMindError, SM_ERR_INVALID_ARG } from './errors.js';
import { yieldNow } from './generation.js';

/**
 * @typedef {object} EvaluationResult
 * @property {number} tokens tokens in the text (BOS included when added)
 * @property {number} evaluated tokens scored (tokens - 1)
 * @property {number} crossEntropy mean negative log-likelihood, nats per token
 * @property {number} perplexity exp(crossEntropy)
 * @property {number} bitsPerToken crossEntropy / ln 2
 * @property {number} windows forward windows used
 * @property {number} contextSize @property {number} stride
 * @property {number} ms
 */

/** ln Σ exp(x) in double precision. @param {Float32Array} x */
function logSumExp(x) {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let s = 0;
  for (let i = 0; i < x.length; i++) s += Math.exp(x[i] - max);
  return max + Math.log(s);
}

/**
 * @param {object} a
 * @param {import('./engine.js').Model} a.model
 * @param {string | number[]} a.input text (tokenized with BOS as the model asks) or token ids
 * @param {{contextSize?: number, stride?: number, addSpecial?: boolean}} a.options
 * @param {number} a.threads
 * @param {AbortSignal} a.signal
 * @param {(done: number, total: number) => void} [a.onProgress]
 * @returns {Promise<EvaluationResult>}
 */
export async function evaluateText({ model, input, options: o, threads, signal, onProgress }) {
  const t0 = performance.now();
  /** @type {ArrayLike<number>} */
  let ids;
  if (typeof input === 'string') {
    const tok = model.tokenizer;
    if (!tok) throw new SmallMindError('this model file has no tokenizer; pass token ids to evaluate', SM_ERR_INVALID_ARG);
    ids = tok.tokenize(input, { addSpecial: o.addSpecial ?? true, parseSpecial: false });
  } else {
    ids = input;
  }
  const n = ids.length;
  if (n < 2) throw new SmallMindError(`evaluate needs at least 2 tokens, the text has ${n}`, SM_ERR_INVALID_ARG);
  const W = Math.min(o.contextSize ?? Math.min(model.info.n_ctx_train, 512), n);
  if (W < 2) throw new SmallMindError('contextSize must be at least 2', SM_ERR_INVALID_ARG);
  const S = o.stride ?? Math.max(1, Math.floor(W / 2));
  if (S < 1 || (S > W - 1 && W < n)) throw new SmallMindError(`stride must be in [1, ${W - 1}], got ${S}`, SM_ERR_INVALID_ARG);
  const session = model.createSession({ nCtx: W, threads, temperature: 0 });
  let nll = 0;
  let scored = 0;
  let windows = 0;
  let scoredUpTo = 1; // the next token index to score
  try {
    for (let begin = 0; ; begin += S) {
      const end = Math.min(begin + W, n);
      windows++;
      session.rewind(0);
      // history the window needs but does not score goes in as one batch
      const firstScored = Math.max(scoredUpTo, begin + 1);
      if (firstScored - 1 > begin) session.decode(Array.prototype.slice.call(ids, begin, firstScored - 1));
      for (let p = firstScored - 1; p < end - 1; p++) {
        if (signal.aborted) throw new AbortError('the evaluation was aborted');
        session.decode([ids[p]]);
        const logits = /** @type {Float32Array} */ (session.logits());
        const target = ids[p + 1];
        nll += logSumExp(logits) - logits[target];
        scored++;
        if (scored % 8 === 0) { onProgress?.(scored, n - 1); await yieldNow(); }
      }
      scoredUpTo = end;
      if (end >= n) break;
    }
  } finally {
    session.free();
  }
  onProgress?.(scored, n - 1);
  const ce = nll / scored;
  return { tokens: n, evaluated: scored, crossEntropy: ce, perplexity: Math.exp(ce), bitsPerToken: ce / Math.LN2,
    windows, contextSize: W, stride: S, ms: Math.round(performance.now() - t0) };
}

/**
 * @typedef {object} HealthCheck
 * @property {string} name @property {'pass' | 'warn' | 'fail'} status @property {string} message
 * @property {number} [ms]
 */

/**
 * One short forward pass: the weights are bound, a session can be made, logits come out finite and
 * not all equal, and how long it took.
 * @param {import('./engine.js').Model | null} model @param {number} threads
 * @param {{maxForwardMs?: number}} [o] a forward pass slower than this is 'degraded' (default 5000)
 * @returns {{status: 'healthy' | 'degraded' | 'unhealthy', checks: HealthCheck[], ms: number}}
 */
export function healthCheck(model, threads, o = {}) {
  const t0 = performance.now();
  /** @type {HealthCheck[]} */
  const checks = [];
  const done = () => {
    const status = checks.some((c) => c.status === 'fail') ? 'unhealthy' : checks.some((c) => c.status === 'warn') ? 'degraded' : 'healthy';
    return { status: /** @type {'healthy' | 'degraded' | 'unhealthy'} */ (status), checks, ms: Math.round(performance.now() - t0) };
  };
  if (!model) {
    checks.push({ name: 'weights', status: 'fail', message: 'no model is loaded' });
    return done();
  }
  checks.push({ name: 'weights', status: 'pass', message: `${model.info.n_layer} layers, ${model.info.n_params} parameters bound` });
  const tok = model.tokenizer;
  checks.push(tok ? { name: 'tokenizer', status: 'pass', message: `${tok.info.kind}, ${tok.info.n_tokens} tokens` }
    : { name: 'tokenizer', status: 'warn', message: 'the file has no tokenizer: only token-id prompts work' });
  /** @type {import('./engine.js').Session | null} */
  let session = null;
  try {
    session = model.createSession({ nCtx: 8, threads, temperature: 0 });
    const first = model.info.bos_token >= 0 ? model.info.bos_token : 0;
    const t = performance.now();
    session.decode([first]);
    const ms = Math.round((performance.now() - t) * 100) / 100;
    const limit = o.maxForwardMs ?? 5000;
    checks.push({ name: 'forward', status: ms <= limit ? 'pass' : 'warn', message: `one token in ${ms} ms${ms <= limit ? '' : ` (over ${limit} ms)`}`, ms });
    const logits = /** @type {Float32Array} */ (session.logits());
    let bad = 0, lo = Infinity, hi = -Infinity;
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i];
      if (!Number.isFinite(v)) bad++;
      else { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    if (bad) checks.push({ name: 'logits', status: 'fail', message: `${bad} of ${logits.length} logits are not finite (NaN/Inf): damaged weights?` });
    else if (!(hi > lo)) checks.push({ name: 'logits', status: 'fail', message: `all ${logits.length} logits are equal (${lo}): the model cannot prefer any token` });
    else checks.push({ name: 'logits', status: 'pass', message: `${logits.length} finite logits in [${lo.toFixed(2)}, ${hi.toFixed(2)}]` });
  } catch (e) {
    checks.push({ name: 'forward', status: 'fail', message: `the forward pass failed: ${/** @type {Error} */ (e).message}` });
  } finally {
    session?.free();
  }
  return done();
}
