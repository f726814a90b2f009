// generation.js — one generation inside the engine worker: prompt → prefill → sample loop →
// text pieces, with stop strings, limits and metrics.
//
// The loop yields to the event loop between prompt batches and between tokens, so an abort
// message from the client is seen within one decoding step; `emit` waits when the client has not
// consumed earlier pieces (credit-based flow control), so a slow reader never queues unbounded text.

import { AbortError, SmallMindError, TimeoutError, SM_ERR_INVALID_ARG, SM_ERR_CONTEXT_FULL } from './errors.js';
import { StopMatcher } from './stop-strings.js';
import { heapU8 } from './model-loader.js';
import { isPartsPrompt, tokenizeChatParts } from './chat-tokens.js';

/** Lets queued messages (abort, credit) run. setImmediate where it exists; a MessageChannel
 * round trip in browsers (setTimeout would be clamped to 4 ms after a few nestings). */
export const yieldNow = (() => {
  const g = /** @type {any} */ (globalThis);
  if (typeof g.setImmediate === 'function') return () => new Promise((r) => g.setImmediate(r));
  if (typeof g.MessageChannel === 'function' && g.navigator?.userAgent !== 'Cloudflare-Workers') {
    const ch = new g.MessageChannel();
    /** @type {(() => void)[]} */
    const waiting = [];
    ch.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise((r) => { waiting.push(/** @type {() => void} */ (r)); ch.port2.postMessage(0); });
  }
  return () => new Promise((r) => setTimeout(r, 0));
})();

/**
 * @typedef {object} GenerationMetrics
 * @property {number} promptTokens @property {number} generatedTokens
 * @property {number} cachedTokens prompt tokens a session already had in its KV cache (not processed again)
 * @property {number} timeToFirstTokenMs from the start of the call to the first sampled token
 * @property {number} prefillTokensPerSecond @property {number} decodeTokensPerSecond
 * @property {number} totalMs @property {number} peakMemoryBytes WASM memory size (it never shrinks)
 * @property {'eos' | 'maxTokens' | 'stop' | 'contextFull'} stopReason
 * @property {string | null} stopString the stop string that ended it
 * @property {number} seed the sampler seed used (pass it back for the same tokens)
 * @property {number} threads
 */

/**
 * @param {object} a
 * @param {import('./engine.js').Model} a.model
 * @param {string | number[] | {parts: {text: string, special: boolean}[]}} a.prompt text, token ids
 *   fed as given, or a rendered chat (chat.js): template parts parsed for special tokens, contents not
 * @param {Record<string, any>} a.options validated by options.js
 * @param {number} a.threads
 * @param {AbortSignal} a.signal
 * @param {(text: string) => Promise<void>} a.emit resolves when the client has room for more
 * @param {Conversation} [a.conv] a session kept between calls: the prompt's longest common prefix
 *   with the tokens already in its KV cache is not processed again
 * @returns {Promise<GenerationMetrics>}
 */
export async function runGeneration({ model, prompt, options: o, threads, signal, emit, conv }) {
  const t0 = performance.now();
  const deadline = o.maxDurationMs !== undefined ? t0 + o.maxDurationMs : Infinity;
  const check = () => {
    if (signal.aborted) throw new AbortError('the generation was aborted');
    if (performance.now() > deadline) throw new TimeoutError(`the generation ran past maxDurationMs (${o.maxDurationMs} ms)`);
  };
  const tok = model.tokenizer;
  /** @type {ArrayLike<number>} */
  let ids;
  if (typeof prompt === 'string') {
    if (!tok) throw new SmallMindError('this model file has no tokenizer; pass the prompt as token ids', SM_ERR_INVALID_ARG);
    ids = tok.tokenize(prompt, { addSpecial: o.addSpecial ?? true, parseSpecial: o.parseSpecial ?? true });
  } else if (isPartsPrompt(prompt)) {
    if (!tok) throw new SmallMindError('this model file has no tokenizer, so it cannot chat', SM_ERR_INVALID_ARG);
    ids = tokenizeChatParts(tok, prompt.parts);
  } else {
    ids = prompt;
  }
  const nCtx = conv ? conv.nCtx : o.contextSize ?? Math.min(model.info.n_ctx_train, 4096);
  if (ids.length === 0) throw new SmallMindError('the prompt is empty (no tokens)', SM_ERR_INVALID_ARG);
  if (ids.length >= nCtx) {
    throw new SmallMindError(`the prompt has ${ids.length} tokens but the context holds ${nCtx}; shorten it or raise contextSize`, SM_ERR_CONTEXT_FULL);
  }
  // a context shift asks for room to answer as well (smallmind.js drops old turns and retries)
  // (at most a quarter of the context, so a large maxTokens does not drop every turn)
  const reserve = o.reserve ? Math.min(o.reserve, Math.floor(nCtx / 4)) : 0;
  if (ids.length + reserve > nCtx) {
    throw new SmallMindError(`the prompt has ${ids.length} tokens and the answer needs ${reserve} more, but the context holds ${nCtx}`, SM_ERR_CONTEXT_FULL);
  }
  const seed = o.seed ?? ((Math.random() * 2 ** 32) >>> 0);
  const sampling = {
    temperature: o.temperature, seed, ignoreEos: o.ignoreEos, topK: o.topK, topP: o.topP, minP: o.minP,
    repeatPenalty: o.repeatPenalty, frequencyPenalty: o.frequencyPenalty, presencePenalty: o.presencePenalty,
    penaltyLastN: o.penaltyLastN, logitBias: o.logitBias,
  };
  /** @type {import('./engine.js').Session} */
  let session;
  let reused = 0;
  if (conv) {
    session = conv.session;
    reused = commonPrefix(conv.tokens, ids);
    // at least one token is decoded: its logits choose the first new token
    if (reused >= ids.length) reused = ids.length - 1;
    session.rewind(reused);
    conv.tokens.length = reused;
    session.setSampling(sampling);
  } else {
    session = model.createSession({ nCtx, nBatch: o.batchSize, threads, kvType: o.kvType, ...sampling });
  }
  const decoder = tok?.createDecoder({ continuation: true }) ?? null;
  const stops = new StopMatcher(o.stop ?? []);
  // stopTokens (and a chat template's end-of-turn token): end the generation like EOS, never emitted
  const stopTokens = new Set(o.stopTokens ?? []);
  const maxTokens = o.maxTokens ?? 256;
  const batch = o.batchSize ?? 64;
  try {
    // prefill in batches, yielding between them so an abort lands within one batch
    for (let i = reused; i < ids.length; i += batch) {
      check();
      const chunk = Array.prototype.slice.call(ids, i, Math.min(ids.length, i + batch));
      session.decode(chunk);
      conv?.tokens.push(...chunk);
      await yieldNow();
    }
    const tPrefill = performance.now();
    let tFirst = 0;
    let n = 0;
    /** @type {GenerationMetrics['stopReason']} */
    let reason = 'maxTokens';
    /** @type {string | null} */
    let stopString = null;
    while (n < maxTokens) {
      check();
      const t = session.step();
      if (t === null) {
        reason = session.nPast >= nCtx ? 'contextFull' : 'eos';
        break;
      }
      conv?.tokens.push(t); // step() has put it in the KV cache
      if (stopTokens.has(t)) { reason = 'eos'; break; }
      n++;
      if (n === 1) tFirst = performance.now();
      const text = decoder ? decoder.push(t) : '';
      const r = stops.push(text);
      if (r.emit) await emit(r.emit);
      if (r.stopped !== null) { reason = 'stop'; stopString = r.stopped; break; }
      await yieldNow();
    }
    if (reason !== 'stop') {
      const tail = stops.push(decoder ? decoder.flush() : '');
      const rest = tail.stopped !== null ? tail.emit : tail.emit + stops.flush();
      if (tail.stopped !== null) { reason = 'stop'; stopString = tail.stopped; }
      if (rest) await emit(rest);
    }
    const tEnd = performance.now();
    const decodeMs = n > 1 ? tEnd - tFirst : 0;
    return {
      promptTokens: ids.length,
      generatedTokens: n,
      timeToFirstTokenMs: round(n ? tFirst - t0 : tEnd - t0),
      cachedTokens: reused,
      prefillTokensPerSecond: round((ids.length - reused) / Math.max(1e-3, (tPrefill - t0) / 1e3)),
      // the first token's time belongs to time-to-first-token; decode speed counts the rest
      decodeTokensPerSecond: n > 1 ? round((n - 1) / (decodeMs / 1e3)) : 0,
      totalMs: round(tEnd - t0),
      peakMemoryBytes: heapU8(model.engine.mod).length,
      stopReason: reason,
      stopString,
      seed,
      threads,
    };
  } finally {
    decoder?.free();
    if (!conv) session.free();
    else if (conv.tokens.length !== session.nPast) {
      // a failed decode left the cache elsewhere than the bookkeeping: start the conversation over
      session.rewind(0);
      conv.tokens.length = 0;
    }
  }
}

/**
 * A session kept between generations (SmallMindModel.createSession): its engine session and the
 * tokens in its KV cache, in order.
 * @typedef {{session: import('./engine.js').Session, tokens: number[], nCtx: number}} Conversation
 */

/** @param {number[]} a @param {ArrayLike<number>} b */
function commonPrefix(a, b) {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** @param {number} x */
function round(x) { return Math.round(x * 100) / 100; }
